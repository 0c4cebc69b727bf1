import { serve } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  applyServerLimits,
  DEFAULT_SERVER_LIMITS,
  HEADERS_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
  type ServerLimits,
} from '../../src/http/server-limits.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestRegistry, type TestRegistry } from '../helpers/registry.ts';

/**
 * The server's own limits, over a real socket: slow headers and slow bodies are cut off with
 * 408, the connection cap holds, and a request that never fully arrived is logged as a warning,
 * never as an error-level 500. The limits are shortened here so the tests run in about a second;
 * the last test checks that the defaults are the 15 s of the contract.
 */

const SHORT: Partial<ServerLimits> = { headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 50 };

interface LogEntry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

describe('server limits over a real socket', () => {
  let t: TestRegistry;
  let server: Server;
  let port: number;
  let logs: LogEntry[];
  const sockets: Socket[] = [];

  async function start(limits: Partial<ServerLimits> = SHORT) {
    logs = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          logs.push(JSON.parse(String(chunk)) as LogEntry);
          done();
        },
      }),
    );
    t = await createTestRegistry({ logger });
    await new Promise<void>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        port = info.port;
        resolve();
      });
      server = s as Server;
      applyServerLimits(server, { limits, logger });
    });
  }

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise<void>((done) => {
      server?.close(() => done());
      server?.closeAllConnections();
    });
    await t?.close();
  });

  /** A raw connection that records what the server sends and when it closes. */
  async function open() {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let received = '';
    socket.on('data', (d) => (received += String(d)));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, closed, received: () => received };
  }

  /** Writes `pieces` one at a time, `everyMs` apart, until they run out or the server closes the connection. */
  async function trickle(socket: Socket, pieces: string[], everyMs: number): Promise<number> {
    let written = 0;
    for (const piece of pieces) {
      if (socket.destroyed || socket.closed || !socket.writable) break;
      socket.write(piece);
      written++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return written;
  }

  it('headers trickled slowly: 408 and the connection closes before they are done', async () => {
    await start();
    const conn = await open();
    const pieces = [
      'GET /healthz HTTP/1.1\r\n',
      'Host: 127.0.0.1\r\n',
      ...Array.from({ length: 60 }, (_, i) => `X-Slow-${i}: y\r\n`),
      '\r\n',
    ];
    const written = await trickle(conn.socket, pieces, 100);
    await conn.closed;
    expect(written).toBeLessThan(pieces.length);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('a body trickled a byte at a time: 408, the connection closes, and the log says so at warn level, not as a 500', async () => {
    await start();
    const conn = await open();
    conn.socket.write('POST /webhooks/wix HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n');
    const written = await trickle(
      conn.socket,
      Array.from({ length: 1000 }, () => 'a'),
      150,
    );
    await conn.closed;
    expect(written).toBeLessThan(1000);
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    // The handler learns of it once the socket is gone; its request line follows.
    await vi.waitFor(() => expect(logs.some((e) => e.msg === 'request abandoned by the client')).toBe(true), {
      timeout: 5_000,
      interval: 20,
    });
    const line = logs.find((e) => e.msg === 'request abandoned by the client')!;
    expect(line).toMatchObject({
      level: 40,
      method: 'POST',
      path: '/webhooks/wix',
      status: 408,
      clientAborted: true,
      incomplete: 'timed out',
      client: '127.0.0.1',
    });
    expect(logs.filter((e) => e.level >= 50)).toEqual([]);
    const metrics = await (await t.api('/metrics')).text();
    expect(metrics).toMatch(/wix_registry_webhooks_total\{outcome="request_timeout"\} 1\n/);
  });

  it('a client that goes away mid-body is logged as such (warn), not as an error', async () => {
    await start({ ...SHORT, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000 });
    const conn = await open();
    conn.socket.write('POST /webhooks/wix HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nabc');
    // Let the handler start reading the body, then hang up.
    await new Promise((r) => setTimeout(r, 100));
    conn.socket.destroy();
    await vi.waitFor(() => expect(logs.some((e) => e.msg === 'request abandoned by the client')).toBe(true), {
      timeout: 5_000,
      interval: 20,
    });
    expect(logs.find((e) => e.msg === 'request abandoned by the client')).toMatchObject({
      level: 40,
      incomplete: 'connection closed',
      status: 408,
    });
    expect(logs.filter((e) => e.level >= 50)).toEqual([]);
  });

  it('caps concurrent connections: past the cap a new connection is closed at once; under it, served', async () => {
    await start({ ...SHORT, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, maxConnections: 2 });
    const first = await open();
    const second = await open();
    await vi.waitFor(async () => expect(await new Promise((r) => server.getConnections((_e, n) => r(n)))).toBe(2));
    const third = await open();
    await third.closed;
    expect(third.received()).toBe('');
    await vi.waitFor(() => expect(logs.some((e) => e.msg === 'connection cap reached: new connections closed')).toBe(true));

    first.socket.destroy();
    await first.closed;
    await vi.waitFor(async () => expect(await new Promise((r) => server.getConnections((_e, n) => r(n)))).toBe(1));
    const fourth = await open();
    fourth.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await fourth.closed;
    expect(fourth.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    second.socket.destroy();
  });

  it('a request that arrives in time is unaffected', async () => {
    await start();
    const conn = await open();
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\{"status":"ok"\}$/);
  });
});

describe('the default limits', () => {
  it('headers and the whole request must arrive within 15 s; the rest are set too', () => {
    expect(HEADERS_TIMEOUT_MS).toBe(15_000);
    expect(REQUEST_TIMEOUT_MS).toBe(15_000);
    const server = createServer();
    const applied = applyServerLimits(server);
    expect(applied).toEqual(DEFAULT_SERVER_LIMITS);
    expect(server.headersTimeout).toBe(15_000);
    expect(server.requestTimeout).toBe(15_000);
    expect(server.timeout).toBe(DEFAULT_SERVER_LIMITS.idleTimeoutMs);
    expect(server.keepAliveTimeout).toBe(DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs);
    expect(server.maxConnections).toBe(DEFAULT_SERVER_LIMITS.maxConnections);
    // Checked often enough that "15 s" means 15 s, not up to 45 s (Node's default check is every 30 s).
    expect((server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
    // Longer than the longest wait the API asks of a client (a long-poll holds up to 60 s).
    expect(DEFAULT_SERVER_LIMITS.idleTimeoutMs).toBeGreaterThan(60_000);
  });
});
