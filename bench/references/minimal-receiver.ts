/**
 * The minimal receiver: the least a correct Wix webhook endpoint can do. Verifies the RS256 JWT
 * with node:crypto (public key parsed once) and upserts one row per request with better-sqlite3
 * (WAL, synchronous=NORMAL, one commit per request). No envelope validation, no history, no
 * dedupe, no logging, no middleware: the floor the registry is measured against.
 *
 *   WIX_PUBLIC_KEY=<PEM> node bin/run-ts.js bench/references/minimal-receiver.ts [--port=N] [--db=path]
 *
 * Prints {"port":N} on stdout when listening on 127.0.0.1.
 */
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { createPublicKey, verify } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { announce, exitWith, portFromArgs, throwawayDbPath } from './common.ts';

const pem = process.env.WIX_PUBLIC_KEY;
if (!pem) throw new Error('WIX_PUBLIC_KEY (PEM) is required');
const publicKey = createPublicKey(pem.replace(/\\n/g, '\n'));

const db = new Database(throwawayDbPath('minimal'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`CREATE TABLE IF NOT EXISTS installations (
  instance_id TEXT PRIMARY KEY,
  app_id TEXT,
  status TEXT NOT NULL,
  updated_at INTEGER NOT NULL
)`);
const upsert = db.prepare(
  `INSERT INTO installations (instance_id, app_id, status, updated_at) VALUES (?, ?, ?, ?)
   ON CONFLICT(instance_id) DO UPDATE SET app_id = excluded.app_id, status = excluded.status, updated_at = excluded.updated_at`,
);

function verifyJwt(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string };
  if (header.alg !== 'RS256') return null;
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2]!, 'base64url'));
  if (!ok) return null;
  return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const app = new Hono();
app.post('/webhooks/wix', async (c) => {
  let claims: Record<string, unknown> | null;
  try {
    claims = verifyJwt((await c.req.text()).trim());
  } catch {
    claims = null;
  }
  if (!claims || typeof claims.data !== 'string') return c.text('invalid signature', 401);
  const event = JSON.parse(claims.data) as { eventType: string; instanceId: string; data?: string };
  const inner = event.data ? (JSON.parse(event.data) as { appId?: string }) : {};
  const status = event.eventType === 'AppRemoved' ? 'removed' : 'active';
  upsert.run(event.instanceId, inner.appId ?? null, status, Date.now()); // autocommit: one commit per request
  return c.text('ok');
});

const server = serve({ fetch: app.fetch, port: portFromArgs(), hostname: '127.0.0.1' }, (info: AddressInfo) => announce(info.port));
exitWith(server, () => db.close());
