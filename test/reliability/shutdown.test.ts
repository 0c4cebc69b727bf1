/**
 * SIGTERM under load: the real server process gets SIGTERM while webhooks stream in. Every
 * request gets either a `200` that is on disk, or a refusal (503, or a connection the server
 * closed or refused); /readyz turns 503 at once; work in flight finishes; the process exits 0.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../../src/main.ts';
import { createLogger } from '../../src/logger.ts';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { startFakeWix, type RunningFakeWix } from '../helpers/fake-wix.ts';
import { liveRegistryEnv, spawnRegistry } from '../helpers/process.ts';
import { TEST_APP_ID, TEST_APP_SECRET } from '../helpers/registry.ts';
import { createTestDatabase, type ScratchDatabase } from '../helpers/engine.ts';
import { expectIntactIfSqlite, sha256Hex, sleep } from './support.ts';

describe('shutdown', () => {
  let wix: RunningFakeWix;
  const databases: ScratchDatabase[] = [];
  const database = async () => {
    const made = await createTestDatabase();
    databases.push(made);
    return made;
  };
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const env = (databasePath: string) =>
    liveRegistryEnv({
      appId: TEST_APP_ID,
      appSecret: TEST_APP_SECRET,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      wixUrl: wix.url,
      databasePath,
    });
  let n = 0;
  const install = () =>
    signWixWebhook(privateKey, {
      eventType: 'AppInstalled',
      instanceId: `shutdown-${++n}`,
      data: { appId: TEST_APP_ID, originInstanceId: '' },
    });

  beforeAll(async () => {
    wix = await startFakeWix();
  });
  afterAll(async () => {
    await wix.close();
    for (const made of databases) await made.drop();
  });

  it('/readyz answers 503 from the moment shutdown starts, before requests in flight have finished', async () => {
    const running = await startRegistry({ env: env((await database()).url), logger: createLogger('silent'), print: () => {} });
    expect((await running.registry.app.request('/readyz')).status).toBe(200);
    const stopped = running.stop();
    const ready = await running.registry.app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('connection')).toBe('close');
    await stopped;
  });

  it('SIGTERM while webhooks stream: every 200 is on disk, the rest refused, /readyz 503 at once, exit 0', async () => {
    const underLoad = await database();
    const server = await spawnRegistry(env(underLoad.url), 30_000);
    const acknowledged: string[] = [];
    const refused: string[] = [];
    const outcomes = new Map<string, number>();
    let stop = false;
    const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    const lanes = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const jwt = install();
        try {
          const res = await fetch(`${server.url}/webhooks/wix`, { method: 'POST', body: jwt });
          const body = (await res.json()) as { status?: string; error?: { code: string } };
          count(String(res.status));
          if (res.status === 200) {
            expect(body).toEqual({ status: 'accepted' });
            acknowledged.push(jwt);
          } else {
            // The only other answer a webhook may get: 503, so Wix resends.
            expect(res.status).toBe(503);
            expect(body.error?.code).toBe('unavailable');
            refused.push(jwt);
          }
        } catch (error) {
          // The server closed or refused the connection: no answer, so Wix resends.
          count(`no answer (${(error as Error & { cause?: { code?: string } }).cause?.code ?? 'closed'})`);
          refused.push(jwt);
          if (server.child.exitCode !== null) break;
          await sleep(5);
        }
      }
    });
    const readiness: number[] = [];
    await sleep(500);
    const before = acknowledged.length;
    server.child.kill('SIGTERM');
    // Once the process has taken the signal (its log says so), /readyz answers 503 (or nothing,
    // once the listener is closed), never 200.
    while (!server.output().includes('shutting down') && server.child.exitCode === null) await sleep(1);
    for (let i = 0; i < 20; i++) {
      try {
        readiness.push((await fetch(`${server.url}/readyz`)).status);
      } catch {
        break;
      }
    }
    const code = await server.exited;
    stop = true;
    await Promise.all(lanes);

    console.log(`[shutdown] answers ${JSON.stringify(Object.fromEntries(outcomes))}; /readyz after SIGTERM: ${JSON.stringify(readiness)}`);
    expect(code).toBe(0);
    expect(before).toBeGreaterThan(0);
    expect(readiness.filter((status) => status !== 503)).toEqual([]);
    const stored = new Set(await underLoad.db.values<string>('SELECT jwt_sha256 FROM deliveries'));
    const missing = acknowledged.filter((jwt) => !stored.has(sha256Hex(jwt)));
    expect(missing).toEqual([]);
    expectIntactIfSqlite(underLoad);
    expect(
      server
        .output()
        .split('\n')
        .filter((line) => /"level":(50|60)/.test(line)),
    ).toEqual([]); // nothing logged at error or fatal
  }, 60_000);
});
