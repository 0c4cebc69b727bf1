import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { SealedTokenRow } from '../db/store.ts';
import type { AccessToken } from './token-broker.ts';

/**
 * HKDF inputs for the key that seals access tokens stored in the database (issue 9). The salt is
 * fixed: the app secret is already a high-entropy key, and a fixed salt gives every replica the
 * same key without storing anything. The info string names the purpose and its version, so this
 * key is never the same as one derived from the app secret for anything else.
 */
const SEALING_SALT = 'wix-registry/token-sealing';
const SEALING_INFO = 'wix-registry access tokens v1';
const KEY_BYTES = 32; // AES-256
const NONCE_BYTES = 12; // GCM's standard nonce; random per seal, never reused in practice at these volumes
const TAG_BYTES = 16;

export interface TokenSealer {
  /** Names the key (the first 8 hex of the SHA-256 of the derived key): stored with each row. */
  readonly keyId: string;
  /** The token as the shared row stores it: encrypted and bound to this instance and expiry. */
  seal(instanceId: string, token: AccessToken): SealedTokenRow;
  /**
   * The token in a row, or null when the row cannot be trusted for this instance: sealed with
   * another key (the app secret rotated), tampered with, moved from another instance, or not a
   * sealed value at all. Never throws: a row that does not open is a row that is not there.
   */
  open(instanceId: string, row: SealedTokenRow): AccessToken | null;
}

/**
 * AES-256-GCM with a key derived from the app secret by HKDF-SHA256. The associated data is the
 * instance id and the expiry, so a row copied onto another instance, or given a later expiry,
 * fails authentication instead of handing out a token for the wrong site or past its life.
 * Sealed value: base64url(nonce ‖ ciphertext ‖ tag).
 */
export function createTokenSealer(appSecret: string): TokenSealer {
  const key = Buffer.from(hkdfSync('sha256', appSecret, SEALING_SALT, SEALING_INFO, KEY_BYTES));
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  const associatedData = (instanceId: string, expiresAt: number) => Buffer.from(`${instanceId}\0${expiresAt}`, 'utf8');

  return {
    keyId,
    seal(instanceId, token) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(associatedData(instanceId, token.expiresAt));
      const ciphertext = Buffer.concat([cipher.update(token.token, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64url');
      return { sealed, keyId, expiresAt: token.expiresAt };
    },
    open(instanceId, row) {
      if (row.keyId !== keyId) return null;
      const bytes = Buffer.from(row.sealed, 'base64url');
      if (bytes.length <= NONCE_BYTES + TAG_BYTES) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
        decipher.setAAD(associatedData(instanceId, row.expiresAt));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const token = Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
        return { token, expiresAt: row.expiresAt };
      } catch {
        // Authentication failed: tampered, another instance's, or another key under the same id.
        return null;
      }
    },
  };
}
