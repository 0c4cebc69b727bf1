/**
 * The docs baseline: the webhook endpoint a developer writes by following Wix's documentation.
 * The @wix/sdk client with AppStrategy({ appId, publicKey }) and the appInstances module, an
 * onAppInstanceInstalled handler that does one better-sqlite3 upsert, and
 * `await client.webhooks.process(body)` per request (which verifies the JWT with jose, importing
 * the public key again on every call). SQLite as better-sqlite3's README suggests (WAL), with
 * its default synchronous setting.
 *
 *   WIX_APP_ID=… WIX_PUBLIC_KEY=<PEM> node bin/run-ts.js bench/references/docs-baseline.ts [--port=N] [--db=path]
 *
 * Prints {"port":N} on stdout when listening on 127.0.0.1.
 */
import { serve } from '@hono/node-server';
import { appInstances } from '@wix/app-management';
import { AppStrategy, createClient } from '@wix/sdk';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { announce, exitWith, portFromArgs, throwawayDbPath } from './common.ts';

const appId = process.env.WIX_APP_ID;
const publicKey = process.env.WIX_PUBLIC_KEY;
if (!appId || !publicKey) throw new Error('WIX_APP_ID and WIX_PUBLIC_KEY are required');

const db = new Database(throwawayDbPath('docs'));
db.pragma('journal_mode = WAL');
db.exec(`CREATE TABLE IF NOT EXISTS installations (
  instance_id TEXT PRIMARY KEY,
  app_id TEXT,
  installed_at INTEGER NOT NULL
)`);
const upsert = db.prepare(
  `INSERT INTO installations (instance_id, app_id, installed_at) VALUES (?, ?, ?)
   ON CONFLICT(instance_id) DO UPDATE SET app_id = excluded.app_id, installed_at = excluded.installed_at`,
);

const client = createClient({
  auth: AppStrategy({ appId, publicKey }),
  modules: { appInstances },
});

client.appInstances.onAppInstanceInstalled((event) => {
  upsert.run(event.metadata.instanceId, event.data.appId ?? null, Date.now());
});

const app = new Hono();
app.post('/webhooks/wix', async (c) => {
  try {
    await client.webhooks.process(await c.req.text());
  } catch (err) {
    return c.text(`Webhook error: ${err instanceof Error ? err.message : String(err)}`, 500);
  }
  return c.body(null, 200);
});

const server = serve({ fetch: app.fetch, port: portFromArgs(), hostname: '127.0.0.1' }, (info: AddressInfo) => announce(info.port));
exitWith(server, () => db.close());
