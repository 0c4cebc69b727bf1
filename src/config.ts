import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { DatabaseUrlError, describeLocation, parseDatabaseUrl, type DatabaseLocation } from './db/database-url.ts';
import { parseTrustProxy, type TrustProxy } from './http/client-address.ts';
import { APP_INSTANCE_REQUESTS_PER_MINUTE } from './http/rate-limit.ts';
import { parseApiKeyEntry, type ApiKeyEntry } from './http/scopes.ts';
import {
  RAW_DELIVERY_RETENTION_DAYS_DEFAULT,
  RAW_DELIVERY_RETENTION_DAYS_MAX,
  RAW_DELIVERY_RETENTION_DAYS_MIN,
} from './installations/retention.ts';
import { OUTBOX_MAX_ATTEMPTS, OUTBOX_RETRY_BASE_MS, OUTBOX_RETRY_CAP_MS, type BackoffPolicy } from './outbox/backoff.ts';
import { parsePublicKeys } from './wix/public-keys.ts';

/** Defaults of the RECONCILE_* variables (README, "What reconciliation does and never does"). */
export const RECONCILE_RATE_PER_SEC = 5;
export const RECONCILE_MAX_REMOVED_SHARE = 0.5;
export const RECONCILE_AFTER_DAYS = 7;
export const RECONCILE_INTERVAL_MS = 60_000;
export const RECONCILE_SLICE_SIZE = 50;

export const DEFAULT_WIX_API_BASE_URL = 'https://www.wixapis.com';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Wix credentials: given in the environment (live), or generated for the sandbox. */
export interface WixCredentials {
  appId: string;
  appSecret: string;
  publicKeys: KeyObject[];
}

export interface Config {
  /** sandbox: no Wix credentials were configured, so a local fake Wix stands in for Wix. */
  mode: 'live' | 'sandbox';
  nodeEnv: string;
  /** Present in live mode; null in sandbox mode, where main.ts takes them from src/sandbox/credentials.ts. */
  wix: WixCredentials | null;
  /** null in sandbox mode until the sandbox decides where its fake Wix lives. */
  wixApiBaseUrl: string | null;
  /** Which engine and where (DATABASE_URL). */
  database: DatabaseLocation;
  /** For logs and the sandbox's files: the SQLite file, or the PostgreSQL URL without its password. */
  databasePath: string;
  /** PostgreSQL: connections the read pool opens at most (DATABASE_POOL_SIZE); the writes have a small pool of their own. */
  databasePoolSize: number;
  port: number;
  /** Where the server listens: 0.0.0.0 by default, 127.0.0.1 in sandbox mode unless HOST is set. */
  host: string;
  /** A bare key (a string) has every scope; `<key>:<scopes>` gives only those. */
  apiKeys: ApiKeyEntry[];
  corsOrigins: string[];
  /** Which proxy headers name the client and its scheme (TRUST_PROXY). */
  trustProxy: TrustProxy;
  /** GET /app/instance requests per client per minute. */
  appInstanceRateLimitPerMinute: number;
  logLevel: LogLevel;
  /** Outbox retry policy: exponential backoff from base to cap, then dead after maxAttempts. */
  outboxBackoff: BackoffPolicy;
  /** Days a delivery's raw JWT is kept (its hash and payload are kept for good). */
  rawDeliveryRetentionDays: number;
  /** REGISTRY_EVENT_ENDPOINTS and REGISTRY_EVENT_SECRET: where changes are pushed, signed; null when no endpoint is set. */
  push: { endpoints: string[]; secret: string } | null;
  /** Reconciliation and import with Wix (src/reconcile/). */
  reconcile: ReconcileConfig;
}

export interface ReconcileConfig {
  /** Most calls to Wix per second (tokens and Get App Instance together), in the CLI and the server. */
  ratePerSec: number;
  /** A reconcile run stops when more than this share of the installations it checked turned out removed. */
  maxRemovedShare: number;
  /** Whether the server reconciles on its schedule. */
  schedule: boolean;
  /** The schedule checks active installations not heard from (no webhook, no check) for this long. */
  afterMs: number;
  /** The schedule looks at the next slice this often. */
  intervalMs: number;
  /** Installations the schedule checks per slice at most. */
  sliceSize: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

const list = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** Default of DATABASE_POOL_SIZE: PostgreSQL read connections per process. */
export const DATABASE_POOL_SIZE = 10;

/** The signing secret's size bounds, in bytes (Standard Webhooks: 24 to 64). */
export const EVENT_SECRET_MIN_BYTES = 24;
export const EVENT_SECRET_MAX_BYTES = 64;

function isHttpUrl(text: string): boolean {
  try {
    const { protocol, hostname } = new URL(text);
    return (protocol === 'http:' || protocol === 'https:') && hostname !== '';
  } catch {
    return false;
  }
}

/** `whsec_` and canonical base64 (padding optional) of 24–64 bytes. */
export function isEventSecret(secret: string): boolean {
  if (!secret.startsWith('whsec_')) return false;
  const encoded = secret.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return false;
  const bytes = Buffer.from(encoded, 'base64');
  // Canonical: re-encoding gives the same text back, so no character was silently dropped.
  if (bytes.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) return false;
  return bytes.length >= EVENT_SECRET_MIN_BYTES && bytes.length <= EVENT_SECRET_MAX_BYTES;
}

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  WIX_APP_ID: optionalString,
  WIX_APP_SECRET: optionalString,
  WIX_PUBLIC_KEY: optionalString,
  WIX_API_BASE_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
  ),
  DATABASE_URL: optionalString.transform((s, ctx) => {
    try {
      return parseDatabaseUrl(s ?? './data/registry.db');
    } catch (err) {
      // DatabaseUrlError messages never repeat the URL (it may carry a password).
      ctx.addIssue({ code: 'custom', message: err instanceof DatabaseUrlError ? err.message : 'must be a file path or a valid file: URL' });
      return z.NEVER;
    }
  }),
  DATABASE_POOL_SIZE: optionalString
    .transform((s) => s ?? String(DATABASE_POOL_SIZE))
    .pipe(z.coerce.number<string>().int().min(1).max(1000)),
  PORT: optionalString.transform((s) => s ?? '3000').pipe(z.coerce.number<string>().int().min(0).max(65_535)),
  HOST: optionalString,
  REGISTRY_API_KEYS: list.transform((entries, ctx) =>
    entries.map((raw, i) => {
      const parsed = parseApiKeyEntry(raw);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', path: [i], message: `this entry ${parsed.problem}` });
        return raw;
      }
      const key = typeof parsed.entry === 'string' ? parsed.entry : parsed.entry.key;
      if (key.length < 16) ctx.addIssue({ code: 'custom', path: [i], message: 'each key must be at least 16 characters' });
      return parsed.entry;
    }),
  ),
  CORS_ORIGINS: list,
  TRUST_PROXY: optionalString.transform((s, ctx) => {
    const trust = parseTrustProxy(s);
    if (!trust) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be false, true, a number of proxies (1-10), or the name of the header that carries the client address',
      });
      return z.NEVER;
    }
    return trust;
  }),
  APP_INSTANCE_RATE_LIMIT: optionalString
    .transform((s) => s ?? String(APP_INSTANCE_REQUESTS_PER_MINUTE))
    .pipe(z.coerce.number<string>().int().min(1).max(1_000_000)),
  OUTBOX_RETRY_BASE_MS: optionalString.transform((s) => s ?? String(OUTBOX_RETRY_BASE_MS)).pipe(z.coerce.number<string>().int().min(1)),
  OUTBOX_RETRY_CAP_MS: optionalString.transform((s) => s ?? String(OUTBOX_RETRY_CAP_MS)).pipe(z.coerce.number<string>().int().min(1)),
  OUTBOX_MAX_ATTEMPTS: optionalString
    .transform((s) => s ?? String(OUTBOX_MAX_ATTEMPTS))
    .pipe(z.coerce.number<string>().int().min(1).max(1000)),
  RAW_DELIVERY_RETENTION_DAYS: optionalString
    .transform((s) => s ?? String(RAW_DELIVERY_RETENTION_DAYS_DEFAULT))
    .pipe(
      z.coerce
        .number<string>()
        .int()
        // Wix resends an unanswered delivery for about 47 hours: dedupe compares the JWT's hash, but a
        // shorter window would also drop JWTs an operator may still want to replay byte for byte.
        .min(
          RAW_DELIVERY_RETENTION_DAYS_MIN,
          `must be at least ${RAW_DELIVERY_RETENTION_DAYS_MIN} days (Wix resends a delivery for about 47 hours)`,
        )
        .max(RAW_DELIVERY_RETENTION_DAYS_MAX),
    ),
  LOG_LEVEL: optionalString.pipe(z.enum(['debug', 'info', 'warn', 'error']).default('info')),
  RECONCILE_RATE_PER_SEC: optionalString
    .transform((s) => s ?? String(RECONCILE_RATE_PER_SEC))
    .pipe(z.coerce.number<string>().min(0.1).max(1000)),
  RECONCILE_MAX_REMOVED_SHARE: optionalString
    .transform((s) => s ?? String(RECONCILE_MAX_REMOVED_SHARE))
    .pipe(z.coerce.number<string>().min(0).max(1)),
  RECONCILE_SCHEDULE: optionalString.pipe(z.enum(['on', 'off']).default('on')),
  RECONCILE_AFTER_DAYS: optionalString.transform((s) => s ?? String(RECONCILE_AFTER_DAYS)).pipe(z.coerce.number<string>().min(0).max(3650)),
  RECONCILE_INTERVAL_MS: optionalString
    .transform((s) => s ?? String(RECONCILE_INTERVAL_MS))
    .pipe(z.coerce.number<string>().int().min(1_000).max(86_400_000)),
  RECONCILE_SLICE_SIZE: optionalString
    .transform((s) => s ?? String(RECONCILE_SLICE_SIZE))
    .pipe(z.coerce.number<string>().int().min(1).max(10_000)),
  REGISTRY_EVENT_ENDPOINTS: list.transform((urls, ctx) => {
    urls.forEach((url, i) => {
      // The message names the entry by position: a URL may carry a credential (user info, a query).
      if (!isHttpUrl(url)) ctx.addIssue({ code: 'custom', path: [i], message: 'each entry must be an http:// or https:// URL' });
    });
    return [...new Set(urls)];
  }),
  REGISTRY_EVENT_SECRET: optionalString.refine((secret) => secret === undefined || isEventSecret(secret), {
    message: `must be whsec_ followed by the base64 of ${EVENT_SECRET_MIN_BYTES} to ${EVENT_SECRET_MAX_BYTES} random bytes (the Standard Webhooks form)`,
  }),
});

/** The fields that decide the mode; these never fail to parse. */
const credentialSchema = envSchema.pick({ NODE_ENV: true, WIX_APP_ID: true, WIX_APP_SECRET: true, WIX_PUBLIC_KEY: true });

/**
 * The only reader of the environment. Validates everything once and throws a ConfigError naming
 * every bad field. Values are never echoed back, so a secret cannot leak through an error.
 */
export function loadConfig(env: NodeJS.ProcessEnv = readEnvironment()): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.')}: ${issue.message}`);
    }
  }
  // The credentials are checked even when another field is bad, so one start names every problem.
  const creds = parsed.success ? parsed.data : credentialSchema.parse(env);
  const wixFields = { WIX_APP_ID: creds.WIX_APP_ID, WIX_APP_SECRET: creds.WIX_APP_SECRET, WIX_PUBLIC_KEY: creds.WIX_PUBLIC_KEY };
  const missing = Object.entries(wixFields)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  const production = creds.NODE_ENV === 'production';
  const sandbox = missing.length === 3 && !production;

  let publicKeys: KeyObject[] = [];
  if (!sandbox) {
    for (const name of missing) {
      problems.push(
        production && missing.length === 3
          ? `${name}: required when NODE_ENV=production (sandbox mode is for development only)`
          : `${name}: required (set all three Wix credentials, or none for sandbox mode)`,
      );
    }
    if (creds.WIX_PUBLIC_KEY) {
      try {
        publicKeys = parsePublicKeys(creds.WIX_PUBLIC_KEY);
      } catch (err) {
        problems.push(`WIX_PUBLIC_KEY: ${(err as Error).message}`);
      }
    }
  }
  if (parsed.success && !sandbox && parsed.data.WIX_API_BASE_URL && !isSafeWixBaseUrl(parsed.data.WIX_API_BASE_URL)) {
    // The app secret travels to this URL: plain http only where it cannot leave the machine.
    problems.push('WIX_API_BASE_URL: must be https:// outside sandbox mode (http:// only on 127.0.0.1, localhost or [::1])');
  }
  if (parsed.success && parsed.data.REGISTRY_EVENT_ENDPOINTS.length > 0 && !parsed.data.REGISTRY_EVENT_SECRET) {
    problems.push('REGISTRY_EVENT_SECRET: required when REGISTRY_EVENT_ENDPOINTS is set (every pushed change is signed with it)');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;

  return {
    mode: sandbox ? 'sandbox' : 'live',
    nodeEnv: e.NODE_ENV,
    wix: sandbox ? null : { appId: e.WIX_APP_ID!, appSecret: e.WIX_APP_SECRET!, publicKeys },
    wixApiBaseUrl: e.WIX_API_BASE_URL ?? (sandbox ? null : DEFAULT_WIX_API_BASE_URL),
    database: e.DATABASE_URL,
    databasePath: describeLocation(e.DATABASE_URL),
    databasePoolSize: e.DATABASE_POOL_SIZE,
    port: e.PORT,
    // The sandbox's generated API key and fake credentials are for this machine only.
    host: e.HOST ?? (sandbox ? '127.0.0.1' : '0.0.0.0'),
    apiKeys: e.REGISTRY_API_KEYS,
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    appInstanceRateLimitPerMinute: e.APP_INSTANCE_RATE_LIMIT,
    logLevel: e.LOG_LEVEL,
    outboxBackoff: { baseMs: e.OUTBOX_RETRY_BASE_MS, capMs: e.OUTBOX_RETRY_CAP_MS, maxAttempts: e.OUTBOX_MAX_ATTEMPTS },
    reconcile: {
      ratePerSec: e.RECONCILE_RATE_PER_SEC,
      maxRemovedShare: e.RECONCILE_MAX_REMOVED_SHARE,
      schedule: e.RECONCILE_SCHEDULE === 'on',
      afterMs: e.RECONCILE_AFTER_DAYS * 86_400_000,
      intervalMs: e.RECONCILE_INTERVAL_MS,
      sliceSize: e.RECONCILE_SLICE_SIZE,
    },
    rawDeliveryRetentionDays: e.RAW_DELIVERY_RETENTION_DAYS,
    push: e.REGISTRY_EVENT_ENDPOINTS.length > 0 ? { endpoints: e.REGISTRY_EVENT_ENDPOINTS, secret: e.REGISTRY_EVENT_SECRET! } : null,
  };
}

/** https, or http to a loopback address (a local stand-in for Wix, a test double). */
function isSafeWixBaseUrl(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'https:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** process.env over a `.env` file in the working directory (the real environment wins). */
export function readEnvironment(cwd = process.cwd()): NodeJS.ProcessEnv {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...process.env };
}
