import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { boundText, createLogger, fitLogLine, LOG_LINE_MAX_BYTES, LOG_STRING_MAX_CHARS } from '../../src/logger.ts';
import { createTestRegistry, fromClient, type TestRegistry } from '../helpers/registry.ts';
import { rawJwt } from '../helpers/sign.ts';

/** No log line is longer than 4 KB, whatever a request carries (issue 12: a 40 KB alg made a 40 KB line). */

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('debug', stream) };
}

const bytes = (line: string) => Buffer.byteLength(line);

describe('log lines from hostile requests', () => {
  let t: TestRegistry;
  let lines: string[];
  beforeEach(async () => {
    const captured = capture();
    lines = captured.lines;
    t = await createTestRegistry({ logger: captured.logger });
  });
  afterEach(() => t.close());

  it('a webhook with a 40 KB alg is refused (401) and logged in one line under 4 KB that still says why', async () => {
    const jwt = rawJwt({ alg: 'A'.repeat(40_000), typ: 'JWT' }, { data: '{}' }, 'c2ln');
    expect(jwt.length).toBeGreaterThan(50_000);
    const res = await t.deliver(jwt);
    expect(res.status).toBe(401);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(bytes(line)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
    const entry = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.path === '/webhooks/wix')!;
    expect(entry).toMatchObject({ status: 401 });
    expect(String(entry.reason)).toMatch(/^alg "AAAA+… is not RS256$/);
    expect(String(entry.reason).length).toBeLessThan(100);
  });

  it('an 8 KB path and an 8 KB user agent are cut on the request line', async () => {
    const res = await t.app.request(`/${'p'.repeat(8_000)}`, { headers: { 'user-agent': 'u'.repeat(8_000) } }, fromClient('198.51.100.9'));
    expect(res.status).toBe(404);
    const entry = JSON.parse(lines.at(-1)!) as { path: string; userAgent: string; client: string };
    expect(bytes(lines.at(-1)!)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
    expect(entry.path).toMatch(/^\/p+…\[\+\d+ chars\]$/);
    expect(entry.path.length).toBeLessThan(300);
    expect(entry.userAgent.length).toBeLessThan(250);
    expect(entry.client).toBe('198.51.100.9');
  });
});

describe('the logger bounds whatever it is given', () => {
  it('cuts any one string to LOG_STRING_MAX_CHARS, saying how much was cut', () => {
    const { lines, logger } = capture();
    logger.info({ nested: { value: 'x'.repeat(40_000) }, list: ['y'.repeat(5_000)] }, 'long fields');
    const entry = JSON.parse(lines[0]!) as { nested: { value: string }; list: string[] };
    expect(entry.nested.value).toBe(`${'x'.repeat(LOG_STRING_MAX_CHARS)}…[+${40_000 - LOG_STRING_MAX_CHARS} chars]`);
    expect(entry.list[0]).toHaveLength(LOG_STRING_MAX_CHARS + '…[+3976 chars]'.length);
  });

  it('keeps a line with many long-ish fields, or a huge error, under 4 KB and valid JSON', () => {
    const { lines, logger } = capture();
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, 'z'.repeat(900)]));
    logger.info({ requestId: 'req-1', status: 400, ...many }, 'many fields');
    logger.error({ requestId: 'req-2', err: new Error(`bad input ${'q'.repeat(40_000)}`) }, 'request failed');
    logger.warn(`a message from outside ${'m'.repeat(40_000)}`);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(bytes(line)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
      expect(line.endsWith('\n')).toBe(true);
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry.truncated).toBe(true);
      expect(entry.level).toEqual(expect.any(Number));
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ requestId: 'req-1', status: 400, msg: 'many fields' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ requestId: 'req-2', msg: 'request failed' });
  });

  it('leaves short lines alone; boundText leaves short text alone', () => {
    const line = `${JSON.stringify({ level: 30, msg: 'ok' })}\n`;
    expect(fitLogLine(line)).toBe(line);
    expect(boundText('short')).toBe('short');
    expect(boundText('abcdef', 3)).toBe('abc…[+3 chars]');
  });

  it('still redacts secrets', () => {
    const { lines, logger } = capture();
    logger.info({ authorization: 'Bearer secret-token', headers: { authorization: 'Bearer x' }, jwt: 'a.b.c' }, 'redacted');
    expect(lines[0]).not.toMatch(/secret-token|Bearer x|a\.b\.c/);
  });
});
