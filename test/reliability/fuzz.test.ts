/**
 * Fuzz (fast-check, bounded runs): the verifier, the envelope parser and the HTTP surface take
 * arbitrary input without crashing, accepting what they should not, or writing anything.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { parseWixEnvelope } from '../../src/webhooks/envelope.ts';
import { createJwtVerifier, VerificationError } from '../../src/webhooks/verify.ts';
import { createTestRegistry, rowCounts, type TestRegistry } from '../helpers/registry.ts';

const RUNS = 400;
const NOW_MS = Date.UTC(2026, 10, 1);
const NOW_SEC = NOW_MS / 1000;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signWithOtherKey = (input: string) => sign('sha256', Buffer.from(input), other.privateKey).toString('base64url');
const verify = createJwtVerifier({ publicKeys: [publicKey], now: () => NOW_MS });

/** Real tokens, correctly signed, of a few shapes. */
const realTokens = [
  signWixWebhook(privateKey, {
    eventType: 'AppInstalled',
    instanceId: 'fuzz-1',
    iat: NOW_SEC - 60,
    data: { appId: 'app', originInstanceId: '' },
  }),
  signWixWebhook(privateKey, { eventType: 'AppRemoved', instanceId: 'fuzz-2', iat: NOW_SEC - 3_600 }),
  signWixWebhook(privateKey, {
    eventType: 'PaidPlanPurchased',
    instanceId: 'fuzz-3',
    iat: NOW_SEC - 10,
    data: { vendorProductId: 'premium', cycle: 'YEARLY' },
    identity: { identityType: 'WIX_USER', wixUserId: 'u-1' },
    accountInfo: { siteId: 's-1', accountId: 'a-1' },
  }),
];

/** Throws unless `fn` throws a VerificationError. */
function expectVerificationError(fn: () => unknown): void {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    if (err instanceof VerificationError) return;
    throw new Error(`threw something other than VerificationError: ${String(err)}`, { cause: err });
  }
  throw new Error(`accepted: ${JSON.stringify(result)}`);
}

// ---------------------------------------------------------------------------------------------
// Mutations of a real token

type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'insert'; at: number; char: string }
  | { kind: 'delete'; at: number }
  | { kind: 'segments'; order: [number, number, number] }
  | { kind: 'header'; header: Record<string, unknown> }
  | { kind: 'claims'; claims: Record<string, unknown> }
  | { kind: 'resign-other-key' }
  | { kind: 'trailing-bits' };

const anyChar = fc.oneof(
  fc.constantFrom(...B64URL.split(''), '.', '=', '+', '/', ' ', '\n', '%'),
  fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: anyChar }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: anyChar }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('segments' as const),
    order: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  }),
  fc.record({
    kind: fc.constant('header' as const),
    header: fc.record(
      {
        alg: fc.constantFrom('RS512', 'RS384', 'HS256', 'HS512', 'ES256', 'PS256', 'none', 'None', 'rs256', 'RS256 ', '', null, 256),
        typ: fc.constantFrom('JWT', 'jwt'),
        kid: fc.string({ maxLength: 8 }),
        crit: fc.constant(['exp']),
      },
      { requiredKeys: ['alg'] },
    ),
  }),
  fc.record({
    kind: fc.constant('claims' as const),
    claims: fc.record({
      data: fc.constant(JSON.stringify({ eventType: 'AppRemoved', instanceId: 'fuzz-1', data: '{}' })),
      iat: fc.integer({ min: 0, max: NOW_SEC }),
    }),
  }),
  fc.constant({ kind: 'resign-other-key' as const }),
  fc.constant({ kind: 'trailing-bits' as const }),
);

function applyMutation(token: string, m: Mutation): string {
  const parts = token.split('.');
  const segmentWise = m.kind !== 'replace' && m.kind !== 'insert' && m.kind !== 'delete';
  // Segment-wise mutations need three segments (an earlier mutation may have broken them).
  if (segmentWise && (parts.length !== 3 || parts.some((p) => p.length === 0))) return `${token}.`;
  const [h, c, s] = parts as [string, string, string];
  switch (m.kind) {
    case 'replace': {
      const at = m.at % token.length;
      return token.slice(0, at) + m.char + token.slice(at + 1);
    }
    case 'insert': {
      const at = m.at % (token.length + 1);
      return token.slice(0, at) + m.char + token.slice(at);
    }
    case 'delete': {
      const at = m.at % token.length;
      return token.slice(0, at) + token.slice(at + 1);
    }
    case 'segments':
      return m.order.map((i) => parts[i]).join('.');
    case 'header':
      // Another header (another alg, crit…) over the same claims and signature.
      return `${b64(m.header)}.${c}.${s}`;
    case 'claims':
      // Other claims under the original signature.
      return `${h}.${b64(m.claims)}.${s}`;
    case 'resign-other-key': {
      // The same claims, correctly signed with a key the registry does not know.
      return `${h}.${c}.${signWithOtherKey(`${h}.${c}`)}`;
    }
    case 'trailing-bits': {
      // The same signature bytes, encoded with the last character's unused low bits set.
      const last = B64URL.indexOf(s.at(-1)!);
      const unusedBits = (6 * s.length) % 8; // 342 characters for 256 bytes: 4 bits unused
      const variant = B64URL[last ^ ((1 << unusedBits) - 1)]!;
      return `${h}.${c}.${s.slice(0, -1)}${variant}`;
    }
  }
}

describe('fuzz: the JWT verifier', () => {
  it('the real tokens verify (the baseline the mutations start from)', () => {
    for (const token of realTokens) expect(verify(token).header.alg).toBe('RS256');
  });

  it('arbitrary strings and bytes: only VerificationError, never accepted', () => {
    const segment = fc.string({ unit: fc.constantFrom(...B64URL.split('')), maxLength: 60 });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.string({ maxLength: 200, unit: 'binary' }),
          fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
          fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
          fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
          fc
            .tuple(fc.jsonValue(), fc.jsonValue(), fc.uint8Array({ maxLength: 256 }))
            .map(([header, claims, sig]) => `${b64(header)}.${b64(claims)}.${Buffer.from(sig).toString('base64url')}`),
          fc
            .tuple(fc.jsonValue(), fc.uint8Array({ maxLength: 256 }))
            .map(([claims, sig]) => `${b64({ alg: 'RS256' })}.${b64(claims)}.${Buffer.from(sig).toString('base64url')}`),
        ),
        (input) => expectVerificationError(() => verify(input)),
      ),
      { numRuns: RUNS },
    );
  });

  it('mutated real tokens (characters, segments, headers, claims, keys, encodings): only VerificationError, never accepted', () => {
    fc.assert(
      fc.property(fc.constantFrom(...realTokens), fc.array(mutation, { minLength: 1, maxLength: 3 }), (token, mutations) => {
        const mutated = mutations.reduce(applyMutation, token);
        if (mutated.trim() === token) {
          // No change at all (e.g. segments in their own order, or only surrounding whitespace).
          expect(verify(mutated).claims).toEqual(verify(token).claims);
          return;
        }
        expectVerificationError(() => verify(mutated));
      }),
      { numRuns: RUNS },
    );
  });

  it('a signature re-encoded with different unused trailing bits is refused (else it would dodge dedupe)', () => {
    for (const token of realTokens) {
      const variant = applyMutation(token, { kind: 'trailing-bits' });
      expect(variant).not.toBe(token);
      expect(Buffer.from(variant.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
      expectVerificationError(() => verify(variant));
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('fuzz: the envelope parser', () => {
  /** What a parsed event must look like; anything else must be AppError('malformed_envelope'). */
  function parseOrMalformed(claims: unknown): void {
    let event;
    try {
      event = parseWixEnvelope(claims as Record<string, unknown>);
    } catch (err) {
      if (err instanceof AppError && err.code === 'malformed_envelope') return;
      throw new Error(`threw something other than AppError('malformed_envelope'): ${String(err)}`, { cause: err });
    }
    expect(typeof event.eventType).toBe('string');
    expect(event.eventType.length).toBeGreaterThan(0);
    expect(typeof event.instanceId).toBe('string');
    expect(event.instanceId.length).toBeGreaterThan(0);
    expect(Number.isSafeInteger(event.issuedAt)).toBe(true);
    expect(() => new Date(event.issuedAt).toISOString()).not.toThrow();
    expect(typeof event.data === 'object' && event.data !== null && !Array.isArray(event.data)).toBe(true);
    if (event.identity !== undefined)
      expect(typeof event.identity === 'object' && event.identity !== null && !Array.isArray(event.identity)).toBe(true);
  }

  it('arbitrary JSON values as claims', () => {
    fc.assert(fc.property(fc.jsonValue(), parseOrMalformed), { numRuns: RUNS });
  });

  it('claims shaped like Wix envelopes with arbitrary layers and iat', () => {
    const jsonText = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 30 }),
      fc.constantFrom('{}', '[]', 'null', '{"a":1}', '"{}"', '{'),
    );
    const layerA = fc.record(
      {
        eventType: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('AppInstalled', 'AppRemoved', 'PaidPlanChanged'), fc.jsonValue()),
        instanceId: fc.oneof(fc.string({ maxLength: 250 }), fc.uuid(), fc.jsonValue()),
        data: fc.oneof(jsonText, fc.jsonValue()),
        identity: fc.oneof(jsonText, fc.jsonValue()),
        accountInfo: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const iat = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.double(),
      fc.constantFrom(1e300, 8.64e12, 8.64e12 + 1, 1e13, Number.MAX_SAFE_INTEGER, -1, 0.5),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            data: fc.oneof(
              layerA.map((a) => JSON.stringify(a)),
              fc.jsonValue(),
            ),
            iat,
            exp: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        parseOrMalformed,
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('well-formed layers with any iat number: a time the registry can store and print, or malformed', () => {
    const objectText = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()).map((o) => JSON.stringify(o));
    const layerA = fc.record(
      {
        eventType: fc.constantFrom('AppInstalled', 'AppRemoved', 'PaidPlanChanged', 'InvoiceStatusUpdated'),
        instanceId: fc.uuid(),
        data: objectText,
        identity: objectText,
        accountInfo: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()),
      },
      { requiredKeys: ['eventType', 'instanceId'] },
    );
    const iat = fc.oneof(
      fc.double({ noNaN: true }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ min: 8.6e12, max: 8.7e12, noNaN: true }),
      fc.constantFrom(0, 0.4, 1e300, 8.64e12, 8.64e12 + 1, 1e13, 1e16, Number.MAX_VALUE, -0, -1),
    );
    fc.assert(
      fc.property(layerA, iat, (a, t) => parseOrMalformed({ data: JSON.stringify(a), iat: t })),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('fuzz: through the real app', () => {
  let empty: TestRegistry;
  let seeded: TestRegistry;
  const ids: string[] = [];
  const cursors: string[] = [];

  beforeAll(async () => {
    empty = await createTestRegistry({ now: NOW_MS });
    seeded = await createTestRegistry({ now: NOW_MS });
    const t0 = NOW_SEC - 10 * 86_400;
    for (let i = 0; i < 30; i++) {
      const instanceId = i % 7 === 0 ? `weird %_\\ id ${i} ✓` : `fuzz-inst-${i}`;
      ids.push(instanceId);
      const send = async (eventType: string, iat: number, data: Record<string, unknown> = {}) =>
        expect(
          (await seeded.deliver(await seeded.signer.sign({ eventType, instanceId, iat, data: { appId: 'app', ...data } }))).status,
        ).toBe(200);
      await send(i % 5 === 0 ? 'PaidPlanPurchased' : 'AppInstalled', t0 + i * 100, { vendorProductId: 'premium', cycle: 'YEARLY' });
      if (i % 3 === 0) await send('AppRemoved', t0 + i * 100 + 50);
      if (i % 4 === 0) await send('PaidPlanChanged', t0 + i * 100 + 20, { vendorProductId: 'business', cycle: 'MONTHLY' });
    }
    for (const query of ['limit=3', 'limit=2&status=active', 'limit=2&sort=removedAt&order=asc', 'limit=1&sort=updatedAt']) {
      const page = (await (await seeded.api(`/v1/installations?${query}`)).json()) as { nextCursor: string | null };
      if (page.nextCursor) cursors.push(page.nextCursor);
    }
    expect(cursors.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await empty.close();
    await seeded.close();
  });

  it('arbitrary bodies to POST /webhooks/wix: never a 5xx, never a row written', async () => {
    const validLooking = realTokens; // signed with a key this registry does not know
    const ownToken = await empty.signer.sign({ eventType: 'AppInstalled', instanceId: 'own', iat: NOW_SEC - 5 });
    const body = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc.uint8Array({ maxLength: 400 }),
      fc.constantFrom(...validLooking),
      fc
        .tuple(fc.constantFrom(ownToken, ...validLooking), fc.array(mutation, { minLength: 1, maxLength: 2 }))
        .map(([t, ms]) => ms.reduce(applyMutation, t))
        .filter((t) => t.trim() !== ownToken),
      fc.integer({ min: 64 * 1024 - 10, max: 70_000 }).map((n) => 'a'.repeat(n)),
    );
    const contentType = fc.constantFrom(
      'text/plain',
      'application/json',
      'application/jwt',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '',
    );
    await fc.assert(
      fc.asyncProperty(body, contentType, async (b, type) => {
        const res = await empty.app.request('/webhooks/wix', { method: 'POST', body: b, headers: type ? { 'content-type': type } : {} });
        expect(res.status).toBeLessThan(500);
        expect([400, 401, 413]).toContain(res.status);
        const json = (await res.json()) as { error?: { code?: string } };
        expect(typeof json.error?.code).toBe('string');
      }),
      { numRuns: RUNS },
    );
    expect(await rowCounts(empty.db)).toEqual({ deliveries: 0, installations: 0 });
    expect(await empty.db.value('SELECT count(*) FROM outbox_jobs')).toBe(0);
  }, 60_000);

  it('a signed delivery whose iat is past what a Date holds is malformed (400), not stored to break every list later', async () => {
    const token = await empty.signer.sign({ eventType: 'AppInstalled', instanceId: 'far-future', iat: 1e13 }, { exp: null });
    const res = await empty.deliver(token);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('malformed_envelope');
    expect(await rowCounts(empty.db)).toEqual({ deliveries: 0, installations: 0 });
    expect((await empty.api('/v1/installations')).status).toBe(200);
  });

  it('arbitrary query strings on GET /v1/installations: only 200 or 400', async () => {
    const keys = fc.oneof(
      fc.constantFrom(
        'limit',
        'status',
        'cursor',
        'plan',
        'sort',
        'order',
        'q',
        'installedFrom',
        'installedTo',
        'removedFrom',
        'removedTo',
      ),
      fc.string({ maxLength: 10 }),
    );
    const values = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ maxLength: 20, unit: 'binary' }),
      fc.integer({ min: -10, max: 1_000 }).map(String),
      fc.double().map(String),
      fc.constantFrom(
        'active',
        'removed',
        'paid',
        'free',
        'premium',
        'installedAt',
        'removedAt',
        'updatedAt',
        'asc',
        'desc',
        '',
        '%',
        '_',
        '\\',
        "'",
        '"',
        '1e3',
        '0x10',
        'NaN',
      ),
      fc.constantFrom(...cursors),
      fc.tuple(fc.constantFrom(...cursors), mutation).map(([c, m]) => applyMutation(`${c}.x.y`, m).split('.')[0] ?? ''),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom(
        '2026-02-30',
        '2026-10-01',
        '2026-10-01T12:00:00+02:00',
        '2026-10-01T12:00:00 02:00',
        '9999-12-31T23:59:59Z',
        '0000-01-01',
      ),
    );
    const encoded = fc.array(fc.tuple(keys, values), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString());
    // Not encoded at all: stray %, &, = and friends as a client might send them.
    const raw = fc
      .array(fc.tuple(keys, values), { maxLength: 4 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`.replace(/[#\s]/g, '')).join('&'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(encoded, raw), async (query) => {
        const res = await seeded.api(`/v1/installations?${query}`);
        if (res.status !== 200 && res.status !== 400)
          throw new Error(`GET /v1/installations?${query} answered ${res.status}: ${await res.text()}`);
        const json = (await res.json()) as { items?: unknown[]; error?: { code?: string } };
        if (res.status === 200) expect(Array.isArray(json.items)).toBe(true);
        else expect(json.error?.code).toBe('bad_request');
      }),
      { numRuns: RUNS },
    );
  }, 60_000);

  it('GET /v1/installations/<arbitrary id>: only 200 or 404', async () => {
    const id = fc.oneof(
      fc.string({ minLength: 1, maxLength: 60 }),
      fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }),
      fc.constantFrom(...ids, 'export', '.', '..', '%', '%25', '%00'),
      fc.uuid(),
    );
    await fc.assert(
      fc.asyncProperty(id, async (instanceId) => {
        let path: string;
        try {
          path = `/v1/installations/${encodeURIComponent(instanceId)}`;
        } catch {
          return; // a lone surrogate: no URL can carry it
        }
        const res = await seeded.api(path);
        if (res.status !== 200 && res.status !== 404) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
        const text = await res.text();
        if (res.status === 200 && text.includes('"installation"')) {
          expect((JSON.parse(text) as { installation: { instanceId: string } }).installation.instanceId).toBe(instanceId);
        }
      }),
      { numRuns: RUNS },
    );
    for (const instanceId of ids) expect((await seeded.api(`/v1/installations/${encodeURIComponent(instanceId)}`)).status).toBe(200);
  }, 60_000);
});
