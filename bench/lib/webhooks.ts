/**
 * Correctly signed, unique Wix webhooks for the load: an RSA key pair, and AppInstalled
 * deliveries for new instances signed by src/sandbox/webhook-signer.ts (the signer `simulate`
 * and the sandbox use; tests keep their own independent one on purpose). Signing costs ~0.25 ms
 * each, so large pools are signed on worker threads (sign-worker.mjs), and cached for the next run.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WebhookToSign } from '../../src/sandbox/webhook-signer.ts';

export interface SigningKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface SignedDelivery {
  instanceId: string;
  jwt: string;
}

/** The ids one AppInstalled delivery carries. */
export interface PoolItem {
  instanceId: string;
  userId: string;
  accountId: string;
  siteId: string;
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** An AppInstalled delivery as Wix sends it: identity and accountInfo included. */
export function appInstalledWebhook(appId: string, item: PoolItem, iat: number): WebhookToSign {
  return {
    eventType: 'AppInstalled',
    instanceId: item.instanceId,
    data: { appId, originInstanceId: '' },
    identity: { identityType: 'WIX_USER', wixUserId: item.userId },
    accountInfo: { accountId: item.accountId, parentAccountId: item.accountId, siteId: item.siteId },
    iat,
  };
}

/** Signs `count` AppInstalled deliveries, each for a new instance, on worker threads. */
export async function signAppInstalledPool(
  key: SigningKey,
  appId: string,
  count: number,
  iat = Math.floor(Date.now() / 1000),
): Promise<SignedDelivery[]> {
  const items: PoolItem[] = Array.from({ length: count }, () => ({
    instanceId: randomUUID(),
    userId: randomUUID(),
    accountId: randomUUID(),
    siteId: randomUUID(),
  }));
  const threads = Math.max(1, Math.min(availableParallelism(), Math.ceil(count / 2000)));
  const chunk = Math.ceil(count / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const slice = items.slice(t * chunk, (t + 1) * chunk);
      return new Promise<string[]>((resolve, reject) => {
        const worker = new Worker(new URL('./sign-worker.mjs', import.meta.url), {
          workerData: { privateKeyPem: key.privateKeyPem, appId, items: slice, iat },
        });
        worker.once('message', (jwts: string[]) => {
          resolve(jwts);
          void worker.terminate();
        });
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (code !== 0) reject(new Error(`signing worker exited with code ${code}`));
        });
      });
    }),
  );
  const jwts = parts.flat();
  return items.map((item, i) => ({ instanceId: item.instanceId, jwt: jwts[i]! }));
}

interface StoredPool {
  version: 1;
  createdAt: number;
  appId: string;
  key: SigningKey;
  deliveries: SignedDelivery[];
}

/** A cached pool is dropped after this long: its JWTs expire 3,600,000 s (≈ 41 days) after iat. */
const POOL_MAX_AGE_MS = 7 * 86_400_000;

/**
 * The pool of signed deliveries, cached in `file` (under the gitignored bench/results/) so reruns
 * skip the signing: reused when it holds at least `count` deliveries, else signed anew with a
 * new key. Each benchmark run posts them into a fresh database, so reuse across runs is safe.
 */
export async function loadOrSignPool(
  file: string,
  count: number,
  log: (line: string) => void,
): Promise<{ appId: string; key: SigningKey; deliveries: SignedDelivery[] }> {
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredPool;
      if (stored.version === 1 && Date.now() - stored.createdAt < POOL_MAX_AGE_MS && stored.deliveries.length >= count) {
        log(`reusing ${count.toLocaleString('en-US')} signed webhooks from ${file}`);
        return { appId: stored.appId, key: stored.key, deliveries: stored.deliveries.slice(0, count) };
      }
    } catch {
      // unreadable: sign anew
    }
  }
  const started = performance.now();
  const appId = randomUUID();
  const key = generateSigningKey();
  const deliveries = await signAppInstalledPool(key, appId, count);
  log(
    `signed ${count.toLocaleString('en-US')} unique AppInstalled webhooks in ${((performance.now() - started) / 1000).toFixed(1)} s (cached in ${file})`,
  );
  mkdirSync(dirname(file), { recursive: true });
  const stored: StoredPool = { version: 1, createdAt: Date.now(), appId, key, deliveries };
  writeFileSync(`${file}.tmp`, JSON.stringify(stored));
  renameSync(`${file}.tmp`, file);
  return { appId, key, deliveries };
}
