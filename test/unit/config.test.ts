import { createSign, generateKeyPairSync, verify as verifySignature, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_WIX_API_BASE_URL, loadConfig, readEnvironment } from '../../src/config.ts';

/** An RSA key pair as Wix would hand it out: the public half as an SPKI PEM with real newlines. */
function rsaPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
const keyA = rsaPair();
const keyB = rsaPair();

const SECRET = 'sup3r-s3cret-Do-Not-Print-8f2c1e';

/** All three credentials (live mode), plus anything else. */
const live = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  WIX_APP_ID: 'app-123',
  WIX_APP_SECRET: SECRET,
  WIX_PUBLIC_KEY: keyA.pem,
  ...extra,
});

/** Runs loadConfig expecting a ConfigError, and returns it. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted a configuration it should have refused');
}

/** The variable each problem names (problems read "NAME: what is wrong"). */
const named = (err: ConfigError) => err.problems.map((p) => p.split(':')[0]).sort();

/** The parsed key really is the one that verifies the matching private key's signatures. */
function verifies(publicKey: KeyObject, privateKey: KeyObject): boolean {
  const signature = createSign('sha256').update('payload').sign(privateKey);
  return verifySignature('sha256', Buffer.from('payload'), publicKey, signature);
}

describe('loadConfig: sandbox mode and defaults', () => {
  it('is sandbox mode when no Wix credential is set, with the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      mode: 'sandbox',
      nodeEnv: 'development',
      wix: null,
      wixApiBaseUrl: null,
      databasePath: './data/registry.db',
      port: 3000,
      host: '127.0.0.1', // sandbox: this machine only, unless HOST says otherwise
      logLevel: 'info',
      apiKeys: [],
      corsOrigins: [],
    });
  });

  it('treats empty and blank credential values as unset (still sandbox)', () => {
    const config = loadConfig({ WIX_APP_ID: '', WIX_APP_SECRET: '   ', WIX_PUBLIC_KEY: '' });
    expect(config.mode).toBe('sandbox');
    expect(config.wix).toBeNull();
  });

  it('keeps an explicit WIX_API_BASE_URL in sandbox mode, without a trailing slash', () => {
    expect(loadConfig({ WIX_API_BASE_URL: 'http://127.0.0.1:4010/' }).wixApiBaseUrl).toBe('http://127.0.0.1:4010');
  });

  it('reads the other variables', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      REGISTRY_API_KEYS: ' key-aaaaaaaaaaaaaaaa , key-bbbbbbbbbbbbbbbb ,',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'debug',
      apiKeys: ['key-aaaaaaaaaaaaaaaa', 'key-bbbbbbbbbbbbbbbb'],
    });
  });
});

describe('loadConfig: Wix credentials', () => {
  it('is live mode with all three set, defaulting WIX_API_BASE_URL to Wix', () => {
    const config = loadConfig(live());
    expect(config.mode).toBe('live');
    expect(config.wix?.appId).toBe('app-123');
    expect(config.wix?.appSecret).toBe(SECRET);
    expect(config.wixApiBaseUrl).toBe(DEFAULT_WIX_API_BASE_URL);
    expect(config.wix?.publicKeys).toHaveLength(1);
    expect(verifies(config.wix!.publicKeys[0]!, keyA.privateKey)).toBe(true);
  });

  it('refuses NODE_ENV=production without credentials, naming all three', () => {
    const err = configError({ NODE_ENV: 'production' });
    expect(named(err)).toEqual(['WIX_APP_ID', 'WIX_APP_SECRET', 'WIX_PUBLIC_KEY']);
    for (const name of ['WIX_APP_ID', 'WIX_APP_SECRET', 'WIX_PUBLIC_KEY']) expect(err.message).toContain(name);
    expect(err.message).toMatch(/production/);
  });

  it('accepts NODE_ENV=production with credentials', () => {
    expect(loadConfig(live({ NODE_ENV: 'production' })).mode).toBe('live');
  });

  it.each([
    [{ WIX_APP_ID: 'app-123' }, ['WIX_APP_SECRET', 'WIX_PUBLIC_KEY']],
    [{ WIX_APP_SECRET: SECRET }, ['WIX_APP_ID', 'WIX_PUBLIC_KEY']],
    [{ WIX_APP_ID: 'app-123', WIX_PUBLIC_KEY: keyA.pem }, ['WIX_APP_SECRET']],
    [{ WIX_APP_SECRET: SECRET, WIX_PUBLIC_KEY: keyA.pem }, ['WIX_APP_ID']],
  ])('refuses some credentials without the others (%#), naming only the missing ones', (env, missing) => {
    const err = configError(env);
    expect(named(err)).toEqual(missing);
    expect(err.message).not.toContain(SECRET);
  });
});

describe('loadConfig: WIX_PUBLIC_KEY forms', () => {
  const keysOf = (value: string) => loadConfig(live({ WIX_PUBLIC_KEY: value })).wix!.publicKeys;

  it('PEM with real newlines', () => {
    expect(keyA.pem).toContain('\n');
    const keys = keysOf(keyA.pem);
    expect(keys).toHaveLength(1);
    expect(verifies(keys[0]!, keyA.privateKey)).toBe(true);
  });

  it('PEM with literal backslash-n sequences (as pasted into .env files)', () => {
    const escaped = keyA.pem.replace(/\n/g, '\\n');
    expect(escaped).not.toContain('\n');
    const keys = keysOf(escaped);
    expect(keys).toHaveLength(1);
    expect(verifies(keys[0]!, keyA.privateKey)).toBe(true);
  });

  it('PEM with literal \\r\\n sequences (pasted from Windows)', () => {
    const keys = keysOf(keyA.pem.replace(/\n/g, '\\r\\n'));
    expect(verifies(keys[0]!, keyA.privateKey)).toBe(true);
  });

  it('base64 of the PEM', () => {
    const keys = keysOf(Buffer.from(keyA.pem).toString('base64'));
    expect(keys).toHaveLength(1);
    expect(verifies(keys[0]!, keyA.privateKey)).toBe(true);
  });

  it('surrounded by whitespace', () => {
    expect(keysOf(`\n  ${keyA.pem}  \n`)).toHaveLength(1);
  });

  it('two PEM blocks in one value (key rotation): both keys, in order', () => {
    const keys = keysOf(`${keyA.pem}\n${keyB.pem}`);
    expect(keys).toHaveLength(2);
    expect(verifies(keys[0]!, keyA.privateKey)).toBe(true);
    expect(verifies(keys[1]!, keyB.privateKey)).toBe(true);
    expect(verifies(keys[0]!, keyB.privateKey)).toBe(false);
  });

  it('two PEM blocks with literal \\n, and base64 of two blocks', () => {
    expect(keysOf(`${keyA.pem}${keyB.pem}`.replace(/\n/g, '\\n'))).toHaveLength(2);
    expect(keysOf(Buffer.from(`${keyA.pem}${keyB.pem}`).toString('base64'))).toHaveLength(2);
  });

  it.each([
    ['garbage', 'not a key at all'],
    ['base64 of something that is not a PEM', Buffer.from('hello world').toString('base64')],
    ['a PEM header without its END line', keyA.pem.split('\n').slice(0, 3).join('\n')],
    ['a PEM block whose body is not a key', '-----BEGIN PUBLIC KEY-----\nAAAABBBBCCCC\n-----END PUBLIC KEY-----\n'],
    ['an EC key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    ['an Ed25519 key', generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()],
    [
      'an RSA key followed by an EC key',
      `${keyA.pem}${generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString()}`,
    ],
  ])('refuses %s, naming WIX_PUBLIC_KEY', (_name, value) => {
    const err = configError(live({ WIX_PUBLIC_KEY: value }));
    expect(named(err)).toEqual(['WIX_PUBLIC_KEY']);
    expect(err.message).not.toContain(SECRET);
  });

  it('refuses an EC key and says why (RSA is required)', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(configError(live({ WIX_PUBLIC_KEY: ec })).problems[0]).toMatch(/WIX_PUBLIC_KEY: .*RSA/);
  });
});

describe('loadConfig: every bad field at once, no secret printed', () => {
  it('names PORT, LOG_LEVEL, WIX_API_BASE_URL and REGISTRY_API_KEYS in one ConfigError', () => {
    const err = configError({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      WIX_API_BASE_URL: 'notaurl',
      REGISTRY_API_KEYS: 'a-perfectly-long-enough-key,short',
    });
    expect(named(err)).toEqual(['LOG_LEVEL', 'PORT', 'REGISTRY_API_KEYS.1', 'WIX_API_BASE_URL'].sort());
    for (const name of ['PORT', 'LOG_LEVEL', 'WIX_API_BASE_URL', 'REGISTRY_API_KEYS']) expect(err.message).toContain(name);
  });

  it('reads the RECONCILE_* variables, with their documented defaults, and names each bad one', () => {
    expect(loadConfig({}).reconcile).toEqual({
      ratePerSec: 5,
      maxRemovedShare: 0.5,
      schedule: true,
      afterMs: 7 * 86_400_000,
      intervalMs: 60_000,
      sliceSize: 50,
    });
    expect(
      loadConfig({
        RECONCILE_RATE_PER_SEC: '0.5',
        RECONCILE_MAX_REMOVED_SHARE: '0.1',
        RECONCILE_SCHEDULE: 'off',
        RECONCILE_AFTER_DAYS: '1.5',
        RECONCILE_INTERVAL_MS: '5000',
        RECONCILE_SLICE_SIZE: '10',
      }).reconcile,
    ).toEqual({ ratePerSec: 0.5, maxRemovedShare: 0.1, schedule: false, afterMs: 1.5 * 86_400_000, intervalMs: 5_000, sliceSize: 10 });
    const err = configError({
      RECONCILE_RATE_PER_SEC: '0',
      RECONCILE_MAX_REMOVED_SHARE: '2',
      RECONCILE_SCHEDULE: 'sometimes',
      RECONCILE_AFTER_DAYS: '-1',
      RECONCILE_INTERVAL_MS: '10',
      RECONCILE_SLICE_SIZE: 'many',
    });
    expect(named(err)).toEqual(
      [
        'RECONCILE_AFTER_DAYS',
        'RECONCILE_INTERVAL_MS',
        'RECONCILE_MAX_REMOVED_SHARE',
        'RECONCILE_RATE_PER_SEC',
        'RECONCILE_SCHEDULE',
        'RECONCILE_SLICE_SIZE',
      ].sort(),
    );
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['WIX_API_BASE_URL', 'ftp://example.com'],
  ])('refuses %s=%s', (name, value) => {
    expect(named(configError({ [name]: value }))[0]).toBe(name);
  });

  it('names bad fields and credential problems together (production, no credentials, bad PORT)', () => {
    const err = configError({ NODE_ENV: 'production', PORT: 'abc' });
    expect(named(err)).toEqual(['PORT', 'WIX_APP_ID', 'WIX_APP_SECRET', 'WIX_PUBLIC_KEY']);
  });

  it('names bad fields and a bad public key together', () => {
    const err = configError(live({ WIX_PUBLIC_KEY: 'garbage', LOG_LEVEL: 'loud' }));
    expect(named(err)).toEqual(['LOG_LEVEL', 'WIX_PUBLIC_KEY']);
  });

  it('never puts the app secret (or an API key, or a bad value) in the error', () => {
    const shortKey = 'k3y-Sh0rt';
    const cases: NodeJS.ProcessEnv[] = [
      live({ PORT: 'abc' }),
      live({ LOG_LEVEL: SECRET }),
      live({ WIX_PUBLIC_KEY: SECRET }),
      live({ WIX_PUBLIC_KEY: Buffer.from(SECRET).toString('base64') }),
      { WIX_APP_SECRET: SECRET, REGISTRY_API_KEYS: shortKey },
      { WIX_APP_SECRET: SECRET, NODE_ENV: 'production' },
    ];
    for (const env of cases) {
      const err = configError(env);
      const everything = `${err.message}\n${err.problems.join('\n')}\n${err.stack ?? ''}`;
      expect(everything).not.toContain(SECRET);
      expect(everything).not.toContain(shortKey);
    }
  });
});

describe('loadConfig: DATABASE_URL', () => {
  it.each([
    ['./data/other.db', './data/other.db'],
    ['/var/lib/registry.db', '/var/lib/registry.db'],
    ['file:./x.db', './x.db'],
    ['file:///tmp/x.db', '/tmp/x.db'],
    ['file:///tmp/my%20db.db', '/tmp/my db.db'],
    ['  file:./x.db  ', './x.db'],
  ])('%s becomes the path %s', (url, path) => {
    expect(loadConfig({ DATABASE_URL: url }).databasePath).toBe(path);
  });

  it.each(['file://otherhost/x.db', 'file:///tmp/a%zz.db'])('refuses the unusable file URL %s, naming DATABASE_URL', (url) => {
    expect(named(configError({ DATABASE_URL: url, PORT: 'abc' }))).toEqual(['DATABASE_URL', 'PORT']);
  });

  it('is SQLite with its path by default and for a path', () => {
    expect(loadConfig({}).database).toEqual({ engine: 'sqlite', path: './data/registry.db' });
    expect(loadConfig({ DATABASE_URL: '/var/lib/registry.db' }).database).toEqual({ engine: 'sqlite', path: '/var/lib/registry.db' });
  });

  it.each([
    ['postgres://reg:s3cret-pw@db.internal:5432/registry', 'postgres://reg@db.internal:5432/registry'],
    ['postgresql://reg:s3cret-pw@db.internal/registry?sslmode=require', 'postgresql://reg@db.internal/registry?sslmode=require'],
    ['POSTGRES://reg@db.internal/registry', 'postgres://reg@db.internal/registry'],
    ['postgres://db.internal/registry?password=s3cret-pw&application_name=wr', 'postgres://db.internal/registry?application_name=wr'],
  ])('%s is PostgreSQL, shown as %s (no password)', (url, shown) => {
    const config = loadConfig({ DATABASE_URL: url });
    expect(config.database).toEqual({ engine: 'postgres', url, location: shown });
    expect(config.databasePath).toBe(shown);
    expect(config.databasePath).not.toContain('s3cret-pw');
  });

  it.each(['mysql://root:s3cret-pw@db/registry', 'http://db/registry', 'redis://:s3cret-pw@cache:6379', 'sqlite://./x.db'])(
    'refuses %s at start, naming DATABASE_URL and the scheme, never the password',
    (url) => {
      const err = configError({ DATABASE_URL: url });
      expect(named(err)).toEqual(['DATABASE_URL']);
      const scheme = url.slice(0, url.indexOf(':'));
      expect(err.problems[0]).toContain(`"${scheme}"`);
      expect(`${err.message}\n${err.stack ?? ''}`).not.toContain('s3cret-pw');
    },
  );

  it('reads DATABASE_POOL_SIZE (default 10) and refuses a size that is not a positive integer', () => {
    expect(loadConfig({}).databasePoolSize).toBe(10);
    expect(loadConfig({ DATABASE_POOL_SIZE: '25' }).databasePoolSize).toBe(25);
    for (const bad of ['0', '-3', '2.5', 'many']) expect(named(configError({ DATABASE_POOL_SIZE: bad }))).toEqual(['DATABASE_POOL_SIZE']);
  });
});

describe('readEnvironment', () => {
  const A = `WIX_REGISTRY_TEST_A_${process.pid}_${Date.now()}`;
  const B = `WIX_REGISTRY_TEST_B_${process.pid}_${Date.now()}`;
  const K = `WIX_REGISTRY_TEST_K_${process.pid}_${Date.now()}`;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wix-registry-env-'));
  });
  afterEach(() => {
    delete process.env[A];
    delete process.env[B];
    delete process.env[K];
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a .env file in the given directory, and the real environment wins over it', () => {
    writeFileSync(join(dir, '.env'), `# comment\n${A}=from-file\n${B}=from-file\n`);
    process.env[B] = 'from-process';
    const env = readEnvironment(dir);
    expect(env[A]).toBe('from-file');
    expect(env[B]).toBe('from-process');
    expect(env.PATH).toBe(process.env.PATH);
    // Reading does not write the file's values into the process environment.
    expect(process.env[A]).toBeUndefined();
  });

  it('is just the process environment when there is no .env file', () => {
    process.env[A] = 'only-process';
    const env = readEnvironment(dir);
    expect(env[A]).toBe('only-process');
    expect(env[B]).toBeUndefined();
  });

  it('a public key written in .env with literal \\n in quotes loads as a key', () => {
    writeFileSync(join(dir, '.env'), `${K}="${keyA.pem.trim().replace(/\n/g, '\\n')}"\n`);
    const value = readEnvironment(dir)[K];
    expect(value).toBeTruthy();
    const keys = loadConfig(live({ WIX_PUBLIC_KEY: value })).wix!.publicKeys;
    expect(verifies(keys[0]!, keyA.privateKey)).toBe(true);
  });
});

describe('loadConfig: safe defaults (issue 12)', () => {
  it('sandbox listens on 127.0.0.1 unless HOST is set; live mode on 0.0.0.0', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig(live()).host).toBe('0.0.0.0');
    expect(loadConfig(live({ HOST: '10.0.0.5' })).host).toBe('10.0.0.5');
  });

  it.each(['http://wix-proxy.internal', 'http://10.0.0.7:8080', 'http://127.0.0.1.example.com'])(
    'refuses WIX_API_BASE_URL=%s outside sandbox: the app secret would travel unencrypted',
    (url) => {
      const err = configError(live({ WIX_API_BASE_URL: url }));
      expect(named(err)).toEqual(['WIX_API_BASE_URL']);
      expect(err.message).toMatch(/https/);
      expect(err.message).not.toContain(SECRET);
    },
  );

  it.each([
    'https://www.wixapis.com',
    'https://wix-proxy.internal:8443',
    'http://127.0.0.1:4010',
    'http://localhost:4010',
    'http://[::1]:4010',
  ])('accepts WIX_API_BASE_URL=%s outside sandbox (https, or http on loopback)', (url) => {
    expect(loadConfig(live({ WIX_API_BASE_URL: url })).wixApiBaseUrl).toBe(url);
  });

  it('sandbox mode may point WIX_API_BASE_URL at any http URL (nothing real travels there)', () => {
    expect(loadConfig({ WIX_API_BASE_URL: 'http://fake-wix.test:4010' }).wixApiBaseUrl).toBe('http://fake-wix.test:4010');
  });
});

describe('loadConfig: API key scopes', () => {
  it('a bare key has every scope (stays a string); <key>:<scopes> names its scopes', () => {
    const config = loadConfig({
      REGISTRY_API_KEYS:
        'bare-key-aaaaaaaaaaaa, reader-key-bbbbbbbbbb:read, minter-key-cccccccccc:tokens+read, ops-key-dddddddddddd:admin+admin',
    });
    expect(config.apiKeys).toEqual([
      'bare-key-aaaaaaaaaaaa',
      { key: 'reader-key-bbbbbbbbbb', scopes: ['read'] },
      { key: 'minter-key-cccccccccc', scopes: ['read', 'tokens'] },
      { key: 'ops-key-dddddddddddd', scopes: ['admin'] },
    ]);
  });

  it('scopes follow the last colon, so a key containing ":" is written with its scopes', () => {
    expect(loadConfig({ REGISTRY_API_KEYS: 'part:of:the-key-0123456789:read+tokens+admin' }).apiKeys).toEqual([
      { key: 'part:of:the-key-0123456789', scopes: ['read', 'tokens', 'admin'] },
    ]);
  });

  it.each([
    'a-long-enough-secret-key:wrte',
    'a-long-enough-secret-key:read+',
    'a-long-enough-secret-key:',
    'a-long-enough-secret-key:READ',
    'other-ok-key-0123456789,a:long-enough-secret-key',
  ])('refuses %s naming REGISTRY_API_KEYS and the entry, never echoing the key', (value) => {
    const err = configError({ REGISTRY_API_KEYS: value });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^REGISTRY_API_KEYS\.\d: this entry has an unknown scope/);
    expect(err.message).not.toMatch(/secret-key|long-enough|wrte|READ/);
  });

  it('the 16-character minimum applies to the key part', () => {
    expect(named(configError({ REGISTRY_API_KEYS: 'too-short:read' }))).toEqual(['REGISTRY_API_KEYS.0']);
  });
});

describe('loadConfig: TRUST_PROXY and APP_INSTANCE_RATE_LIMIT', () => {
  it.each([
    [undefined, { mode: 'off' }],
    ['false', { mode: 'off' }],
    ['0', { mode: 'off' }],
    ['true', { mode: 'hops', hops: 1 }],
    ['2', { mode: 'hops', hops: 2 }],
    ['X-Real-IP', { mode: 'header', header: 'x-real-ip' }],
    ['cf-connecting-ip', { mode: 'header', header: 'cf-connecting-ip' }],
  ])('TRUST_PROXY=%s', (value, expected) => {
    expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it.each(['11', 'yes please', 'x_real_ip', '-1'])('refuses TRUST_PROXY=%s, naming it', (value) => {
    expect(named(configError({ TRUST_PROXY: value }))).toEqual(['TRUST_PROXY']);
  });

  it('APP_INSTANCE_RATE_LIMIT defaults to 120 per minute and must be a positive integer', () => {
    expect(loadConfig({}).appInstanceRateLimitPerMinute).toBe(120);
    expect(loadConfig({ APP_INSTANCE_RATE_LIMIT: '30' }).appInstanceRateLimitPerMinute).toBe(30);
    for (const bad of ['0', 'many', '1.5'])
      expect(named(configError({ APP_INSTANCE_RATE_LIMIT: bad }))).toEqual(['APP_INSTANCE_RATE_LIMIT']);
  });
});

describe('loadConfig: RAW_DELIVERY_RETENTION_DAYS', () => {
  it('defaults to 30 days, and takes any whole number of days from 3', () => {
    expect(loadConfig({}).rawDeliveryRetentionDays).toBe(30);
    expect(loadConfig({ RAW_DELIVERY_RETENTION_DAYS: '3' }).rawDeliveryRetentionDays).toBe(3);
    expect(loadConfig(live({ RAW_DELIVERY_RETENTION_DAYS: '365' })).rawDeliveryRetentionDays).toBe(365);
  });

  it('refuses fewer than 3 days (Wix resends for about 47 hours), saying why', () => {
    const err = configError({ RAW_DELIVERY_RETENTION_DAYS: '2' });
    expect(err.problems).toEqual(['RAW_DELIVERY_RETENTION_DAYS: must be at least 3 days (Wix resends a delivery for about 47 hours)']);
    for (const bad of ['0', '-5', 'forever', '2.5'])
      expect(named(configError({ RAW_DELIVERY_RETENTION_DAYS: bad }))).toEqual(['RAW_DELIVERY_RETENTION_DAYS']);
  });
});

describe('loadConfig: REGISTRY_EVENT_ENDPOINTS and REGISTRY_EVENT_SECRET (issue 10)', () => {
  const secretOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;

  it('no endpoints: no push, whatever the secret', () => {
    expect(loadConfig({}).push).toBeNull();
    expect(loadConfig({ REGISTRY_EVENT_SECRET: secretOf(32) }).push).toBeNull();
  });

  it('takes http(s) URLs, trimmed and without repeats, with a whsec_ secret of 24 to 64 bytes', () => {
    const config = loadConfig({
      REGISTRY_EVENT_ENDPOINTS:
        ' https://billing.internal/hooks/registry , http://provisioning:8080/in,https://billing.internal/hooks/registry',
      REGISTRY_EVENT_SECRET: secretOf(32),
    });
    expect(config.push).toEqual({
      endpoints: ['https://billing.internal/hooks/registry', 'http://provisioning:8080/in'],
      secret: secretOf(32),
    });
    for (const bytes of [24, 64])
      expect(loadConfig({ REGISTRY_EVENT_ENDPOINTS: 'https://a.example/h', REGISTRY_EVENT_SECRET: secretOf(bytes) }).push?.secret).toBe(
        secretOf(bytes),
      );
    // Unpadded base64 is the same secret.
    expect(
      loadConfig({ REGISTRY_EVENT_ENDPOINTS: 'https://a.example/h', REGISTRY_EVENT_SECRET: secretOf(32).replace(/=+$/, '') }).push,
    ).not.toBeNull();
  });

  it('requires the secret when endpoints are set', () => {
    const err = configError({ REGISTRY_EVENT_ENDPOINTS: 'https://a.example/h' });
    expect(named(err)).toEqual(['REGISTRY_EVENT_SECRET']);
    expect(err.message).toContain('required when REGISTRY_EVENT_ENDPOINTS is set');
  });

  it.each([
    ['no prefix', Buffer.alloc(32, 1).toString('base64')],
    ['23 bytes', `whsec_${Buffer.alloc(23, 1).toString('base64')}`],
    ['65 bytes', `whsec_${Buffer.alloc(65, 1).toString('base64')}`],
    ['not base64', 'whsec_this is not base64 at all!!!!!!!!!!!!'],
    ['base64url', `whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`],
  ])('refuses a secret with %s, naming the variable and never printing the value', (_, secret) => {
    const err = configError({ REGISTRY_EVENT_ENDPOINTS: 'https://a.example/h', REGISTRY_EVENT_SECRET: secret });
    expect(named(err)).toEqual(['REGISTRY_EVENT_SECRET']);
    expect(err.message).not.toContain(secret.slice(6, 20));
  });

  it.each(['ftp://a.example/h', 'not a url', 'https://ok.example/h,mailto:ops@example.com', 'http://'])(
    'refuses REGISTRY_EVENT_ENDPOINTS=%s by entry, never printing the URL',
    (value) => {
      const err = configError({ REGISTRY_EVENT_ENDPOINTS: value, REGISTRY_EVENT_SECRET: secretOf(32) });
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatch(/^REGISTRY_EVENT_ENDPOINTS\.\d: each entry must be an http:\/\/ or https:\/\/ URL$/);
    },
  );

  it('names both variables in one go with the other bad fields', () => {
    expect(named(configError({ REGISTRY_EVENT_ENDPOINTS: 'ftp://x', PORT: 'nope' }))).toEqual(['PORT', 'REGISTRY_EVENT_ENDPOINTS.0']);
  });
});
