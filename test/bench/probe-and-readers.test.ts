import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runProbes } from '../../bench/lib/probe-loop.ts';
import { runReaders } from '../../bench/lib/read-loops.ts';

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('interference probe', () => {
  it('sends each body once on its own connection, and counts what was not answered, refused or answered', async () => {
    const seen: { body: string; connection: string | undefined; remotePort: number | undefined }[] = [];
    const url = await listen((req, res, body) => {
      seen.push({ body, connection: req.headers.connection, remotePort: req.socket.remotePort });
      if (body === 'b2') return; // never answered: the probe must give up on it
      if (body === 'b4') return res.writeHead(503).end('busy');
      res.writeHead(200).end('{"status":"accepted"}');
    });
    const bodies = Array.from({ length: 8 }, (_, i) => `b${i}`);
    const result = await runProbes({ url, bodies, intervalMs: 20, durationSec: 0.16, timeoutMs: 400 });

    expect(seen.map((s) => s.body).sort()).toEqual(bodies);
    expect(seen.every((s) => s.connection === 'close')).toBe(true);
    expect(new Set(seen.map((s) => s.remotePort)).size).toBe(8);
    expect(result).toMatchObject({ sent: 8, answered: 7, ok: 6, unanswered: 1, errors: 0, statusCodes: { 200: 6, 503: 1 } });
    // One probe in eight had no answer: the 99th percentile and the max fall on it.
    expect(result.p99).toBeNull();
    expect(result.max).toBeNull();
    expect(result.p50).not.toBeNull();
    expect(result.maxAnswered).toBeLessThan(400);
  });
});

describe('interference readers', () => {
  it('follows list cursors to the end and starts over, counts 503s as refusals and counts export rows', async () => {
    const pages: Record<string, { items: number[]; nextCursor: string | null }> = {
      '': { items: [1, 2], nextCursor: 'p2' },
      p2: { items: [3, 4], nextCursor: 'p3' },
      p3: { items: [5], nextCursor: null },
    };
    const cursorsAsked: string[] = [];
    const url = await listen((req, res) => {
      const u = new URL(req.url!, 'http://x');
      if (req.headers.authorization !== 'Bearer k') return res.writeHead(401).end();
      if (u.pathname === '/v1/installations') {
        expect(u.searchParams.get('limit')).toBe('500');
        const cursor = u.searchParams.get('cursor') ?? '';
        cursorsAsked.push(cursor);
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(pages[cursor]));
      }
      if (u.pathname === '/v1/stats/daily') return res.writeHead(503, { 'retry-after': '0.05' }).end('{}');
      if (u.pathname === '/v1/installations/export')
        return res.writeHead(200).end('instanceId,status\r\na,active\r\nb,removed\r\nc,active\r\n');
      res.writeHead(404).end();
    });
    const result = await runReaders({
      url,
      apiKey: 'k',
      durationSec: 0.5,
      listLoops: 2,
      listLimit: 500,
      statsLoops: 1,
      statsPath: '/v1/stats/daily?from=2025-01-01&to=2026-01-01',
      exportLoops: 1,
      exportPath: '/v1/installations/export?format=csv',
    });

    expect(result.lists.walksCompleted).toBeGreaterThanOrEqual(1);
    // Two loops start at the first page, and at least one started over after the last.
    expect(cursorsAsked.filter((c) => c === '').length).toBeGreaterThan(2);
    expect(cursorsAsked).toContain('p3');
    expect(result.lists.failed).toBe(0);
    expect(result.stats).toMatchObject({ ok: 0, failed: 0 });
    expect(result.stats.refused).toBeGreaterThan(0);
    expect(result.exports.ok).toBeGreaterThanOrEqual(1);
    expect(result.exports.rows % 3).toBe(0);
    expect(result.exports.rows).toBeGreaterThanOrEqual(3 * result.exports.ok);
  });
});

describe('interference readers, stopped by the caller', () => {
  it('stop before their time is up when the signal aborts (the probe is done), and still report', async () => {
    const url = await listen((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[1],"nextCursor":null}'),
    );
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const spec = {
      url,
      apiKey: 'k',
      durationSec: 60,
      listLoops: 1,
      listLimit: 500,
      statsLoops: 0,
      statsPath: '/',
      exportLoops: 0,
      exportPath: '/',
    };
    const result = await runReaders(spec, stop.signal);
    expect(result.durationSec).toBeLessThan(spec.durationSec);
    expect(result.lists.ok).toBeGreaterThan(0);
    expect(result.lists.rows).toBe(result.lists.ok);
  });
});
