import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Everything the sandbox generates once and keeps under ./data/sandbox/ (next to the database). */
export interface SandboxCredentials {
  appId: string;
  appSecret: string;
  apiKey: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
}

interface StoredCredentials {
  appId: string;
  appSecret: string;
  apiKey: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** Beside the SQLite file; in ./data for an in-memory database or a PostgreSQL URL (config's databasePath). */
export function sandboxDirFor(databasePath: string): string {
  const beside = databasePath === ':memory:' || /^postgres(ql)?:\/\//i.test(databasePath) ? './data' : dirname(databasePath);
  return join(beside, 'sandbox');
}

/** Loads the sandbox credentials, generating them (mode 0600) on first use. */
export function loadSandboxCredentials(dir: string): { credentials: SandboxCredentials; created: boolean } {
  const file = join(dir, 'credentials.json');
  let created = false;
  if (!existsSync(file)) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const stored: StoredCredentials = {
      appId: randomUUID(),
      appSecret: randomBytes(24).toString('base64url'),
      apiKey: `sbx_${randomBytes(24).toString('base64url')}`,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
    created = true;
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredCredentials;
  return {
    created,
    credentials: {
      appId: stored.appId,
      appSecret: stored.appSecret,
      apiKey: stored.apiKey,
      privateKey: createPrivateKey(stored.privateKeyPem),
      publicKey: createPublicKey(stored.publicKeyPem),
      publicKeyPem: stored.publicKeyPem,
    },
  };
}

export const sandboxCredentialsExist = (dir: string) => existsSync(join(dir, 'credentials.json'));
