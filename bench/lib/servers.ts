/**
 * The servers under test, each its own process on the server core (see pinning.ts): the
 * registry exactly as `npm start` runs it, and the references under bench/references/.
 */
import { registryEnv } from './registry-env.ts';
import type { Context } from './context.ts';
import { onServerCore, type Pinning } from './pinning.ts';
import { freePort, spawnTracked, stopChild, waitForHttp200, waitForPortLine, type Tracked } from './proc.ts';
import { log } from './report.ts';

export interface Server {
  name: string;
  tracked: Tracked;
  pid: number;
  url: string;
  /** Spawn → ready (registry: /readyz 200; references: their port line). */
  startupMs: number;
}

/** Spawns `node args` on the server core. */
function spawnOnServerCore(pinning: Pinning, name: string, args: string[], env: NodeJS.ProcessEnv): Tracked {
  const pinned = onServerCore(pinning, process.execPath, args);
  return spawnTracked(name, pinned.command, pinned.args, { env });
}

/** The registry as `npm start` runs it (`node bin/wix-registry.js serve`), live mode, on `databaseUrl`. */
export async function startRegistry(ctx: Context, databaseUrl: string, options: { name?: string } = {}): Promise<Server> {
  const name = options.name ?? 'registry';
  const port = await freePort();
  const started = performance.now();
  const env = registryEnv({
    appId: ctx.appId,
    appSecret: ctx.appSecret,
    publicKeyPem: ctx.key.publicKeyPem,
    apiKey: ctx.apiKey,
    wixApiBaseUrl: ctx.fakeWixUrl,
    databaseUrl,
    port,
  });
  const tracked = spawnOnServerCore(ctx.pinning, name, ['bin/wix-registry.js', 'serve'], env);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp200(`${url}/readyz`, tracked);
  return { name, tracked, pid: tracked.pid, url, startupMs: performance.now() - started };
}

/**
 * Replicas of the registry on one database (PostgreSQL), started at the same moment as a
 * deployment would start them, each its own process on the server core (the same one CPU budget
 * as a single registry, so the figure shows what replicas cost or gain, not a second core).
 */
export async function startRegistryReplicas(ctx: Context, databaseUrl: string, count: number): Promise<Server[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startRegistry(ctx, databaseUrl, { name: `registry replica ${i + 1}` })),
  );
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((server) => stopServer(server)));
    throw failed.reason;
  }
  return servers;
}

/** A server from bench/references/, which prints {"port":N} once it listens. */
export async function startReference(ctx: Context, name: string, file: string, dbPath: string | null): Promise<Server> {
  const started = performance.now();
  const args = ['bin/run-ts.js', `bench/references/${file}`, '--port=0', ...(dbPath ? [`--db=${dbPath}`] : [])];
  const tracked = spawnOnServerCore(ctx.pinning, name, args, {
    ...process.env,
    WIX_APP_ID: ctx.appId,
    WIX_PUBLIC_KEY: ctx.key.publicKeyPem,
    BENCH_PARENT_STDIN: '1',
  });
  const port = await waitForPortLine(tracked);
  return { name, tracked, pid: tracked.pid, url: `http://127.0.0.1:${port}`, startupMs: performance.now() - started };
}

export async function stopServer(server: Server): Promise<void> {
  const stopped = await stopChild(server.tracked, 12_000);
  if (stopped.killed) log(`  note: ${server.name} did not exit within 12 s of SIGTERM and was killed`);
  else if (stopped.code !== 0)
    log(`  note: ${server.name} exited with code ${stopped.code} after SIGTERM:\n${server.tracked.tail().slice(-1500)}`);
}
