import { describe, expect, it } from 'vitest';
import { createTokenSealer } from '../../src/wix/token-sealing.ts';

const SECRET = 'app-secret-0123456789abcdef';
const TOKEN = { token: 'OauthNG.JWS.sealing-test-token', expiresAt: Date.UTC(2026, 10, 1, 4) };

/** The sealed value with one byte of its ciphertext flipped (between the nonce and the tag). */
function flipCiphertextByte(sealed: string): string {
  const bytes = Buffer.from(sealed, 'base64url');
  bytes[14] = (bytes[14] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe('token sealing (AES-256-GCM, key from the app secret by HKDF)', () => {
  it('opens what it sealed, and the sealed value holds no trace of the token', () => {
    const sealer = createTokenSealer(SECRET);
    const row = sealer.seal('inst-1', TOKEN);
    expect(row.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(row.keyId).toBe(sealer.keyId);
    expect(row.expiresAt).toBe(TOKEN.expiresAt);
    expect(row.sealed).not.toContain('OauthNG');
    expect(row.sealed).not.toContain(Buffer.from(TOKEN.token).toString('base64url').slice(0, 12));
    expect(sealer.open('inst-1', row)).toEqual(TOKEN);
  });

  it('seals the same token differently each time (random nonce), and both open', () => {
    const sealer = createTokenSealer(SECRET);
    const first = sealer.seal('inst-1', TOKEN);
    const second = sealer.seal('inst-1', TOKEN);
    expect(first.sealed).not.toBe(second.sealed);
    expect(sealer.open('inst-1', first)).toEqual(TOKEN);
    expect(sealer.open('inst-1', second)).toEqual(TOKEN);
  });

  it('another process with the same app secret opens it (same key, same key id)', () => {
    const row = createTokenSealer(SECRET).seal('inst-1', TOKEN);
    const replica = createTokenSealer(SECRET);
    expect(replica.keyId).toBe(row.keyId);
    expect(replica.open('inst-1', row)).toEqual(TOKEN);
  });

  it('after the app secret rotates, a row sealed with the old key is missing, not an error', () => {
    const row = createTokenSealer(SECRET).seal('inst-1', TOKEN);
    const rotated = createTokenSealer('rotated-app-secret-fedcba9876543210');
    expect(rotated.keyId).not.toBe(row.keyId);
    expect(rotated.open('inst-1', row)).toBeNull();
  });

  it('a row claiming the current key id but sealed with another key is missing', () => {
    const sealer = createTokenSealer(SECRET);
    const foreign = createTokenSealer('another-app-secret-0000000000').seal('inst-1', TOKEN);
    expect(sealer.open('inst-1', { ...foreign, keyId: sealer.keyId })).toBeNull();
  });

  it('tampered ciphertext, a cut value or garbage is missing', () => {
    const sealer = createTokenSealer(SECRET);
    const row = sealer.seal('inst-1', TOKEN);
    expect(sealer.open('inst-1', { ...row, sealed: flipCiphertextByte(row.sealed) })).toBeNull();
    expect(sealer.open('inst-1', { ...row, sealed: row.sealed.slice(0, -4) })).toBeNull();
    expect(sealer.open('inst-1', { ...row, sealed: '' })).toBeNull();
    expect(sealer.open('inst-1', { ...row, sealed: TOKEN.token })).toBeNull();
  });

  it('binds the instance: a row moved to another instance does not open', () => {
    const sealer = createTokenSealer(SECRET);
    const row = sealer.seal('inst-1', TOKEN);
    expect(sealer.open('inst-2', row)).toBeNull();
    expect(sealer.open('inst-1', row)).toEqual(TOKEN);
  });

  it('binds the expiry: a row given a later expiry does not open', () => {
    const sealer = createTokenSealer(SECRET);
    const row = sealer.seal('inst-1', TOKEN);
    expect(sealer.open('inst-1', { ...row, expiresAt: row.expiresAt + 3_600_000 })).toBeNull();
  });
});
