import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenLocal } from '../../src/sandbox/fake-wix.ts';
import { createTestRegistry, rowCounts, type TestRegistry } from '../helpers/registry.ts';

/** POST over a real socket; `chunked` sends the body without Content-Length. */
function post(url: string, body: string, chunked = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/webhooks/wix`,
      { method: 'POST', headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE'
        ? resolve({ status: 413, body: '' })
        : reject(err),
    );
    if (chunked) {
      for (let i = 0; i < body.length; i += 8192) req.write(body.slice(i, i + 8192));
      req.end();
    } else req.end(body);
  });
}

describe('POST /webhooks/wix over real HTTP (the body read from the Node stream)', () => {
  let t: TestRegistry;
  let server: Awaited<ReturnType<typeof listenLocal>>;
  beforeAll(async () => {
    t = await createTestRegistry();
    server = await listenLocal(t.app);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('accepts a signed delivery, then answers its resend as a duplicate, with Content-Length or chunked', async () => {
    const token = await t.signer.sign({ eventType: 'AppInstalled', instanceId: 'http-1', iat: Math.floor(t.clock.now() / 1000) });
    expect(await post(server.url, token)).toEqual({ status: 200, body: '{"status":"accepted"}' });
    expect(await post(server.url, token, true)).toEqual({ status: 200, body: '{"status":"duplicate"}' });
  });

  it('refuses more than 64 KiB with 413, by declared length and while streaming, writing nothing', async () => {
    const before = await rowCounts(t.db);
    expect((await post(server.url, 'x'.repeat(64 * 1024 + 1))).status).toBe(413);
    expect((await post(server.url, 'x'.repeat(200 * 1024), true)).status).toBe(413);
    expect(await rowCounts(t.db)).toEqual(before);
  });
});
