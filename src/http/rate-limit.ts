import { createMiddleware } from 'hono/factory';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { limitKeyOf } from './client-address.ts';
import type { AppEnv } from './context.ts';

/**
 * Per-client limits, counted in fixed windows in memory (one process; see
 * docs/decisions/0007-own-fixed-window-limiter.md for why not hono-rate-limiter).
 */

/** A client that fails authentication this many times within the window gets 429 until it ends (issue 12). */
export const AUTH_FAILURE_LIMIT = 10;
export const AUTH_FAILURE_WINDOW_MS = 60_000;
/** GET /app/instance requests per client per minute, unless APP_INSTANCE_RATE_LIMIT says otherwise. */
export const APP_INSTANCE_REQUESTS_PER_MINUTE = 120;
export const APP_INSTANCE_WINDOW_MS = 60_000;
/** Clients tracked at once per limit; past it the oldest windows are forgotten first. */
export const RATE_LIMIT_MAX_CLIENTS = 10_000;

export interface FixedWindowCounter {
  /** Whole seconds until the client's window ends if it has reached the limit; 0 if it has not. */
  blockedFor(key: string): number;
  /** Counts one event for the client, opening a window at the first one. */
  hit(key: string): void;
  readonly size: number;
}

/**
 * Counts events per key in a window that opens at the key's first event and lasts `windowMs`.
 * Memory is bounded: the map keeps insertion order, a key is re-inserted when its window
 * reopens, so the oldest windows sit at the front and are dropped first (expired ones always;
 * live ones only when `maxClients` distinct keys are active at once, which forgets those
 * clients' counts rather than growing without end).
 */
export function createFixedWindowCounter(options: {
  limit: number;
  windowMs: number;
  clock: Clock;
  maxClients?: number;
}): FixedWindowCounter {
  const maxClients = options.maxClients ?? RATE_LIMIT_MAX_CLIENTS;
  const windows = new Map<string, { count: number; endsAt: number }>();

  const dropOldest = (now: number) => {
    for (const [key, window] of windows) {
      if (window.endsAt > now && windows.size < maxClients) break;
      windows.delete(key);
    }
  };

  return {
    blockedFor(key) {
      const now = options.clock.now();
      const window = windows.get(key);
      if (!window || window.endsAt <= now || window.count < options.limit) return 0;
      return Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    },
    hit(key) {
      const now = options.clock.now();
      const window = windows.get(key);
      if (window && window.endsAt > now) {
        window.count++;
        return;
      }
      windows.delete(key);
      dropOldest(now);
      windows.set(key, { count: 1, endsAt: now + options.windowMs });
    },
    get size() {
      return windows.size;
    },
  };
}

/**
 * Failed-authentication limit. Before the request: a client over the limit gets 429 with
 * Retry-After, whatever key it sends. After it: a 401 counts as a failure. Requests with no known
 * client address (in-process app.request()) are not limited: nothing tells those clients apart.
 */
export function limitFailedAuthentication<E extends AppEnv = AppEnv>(failures: FixedWindowCounter) {
  return createMiddleware<E>(async (c, next) => {
    const address = c.get('clientAddress');
    const key = address && address !== 'unknown' ? limitKeyOf(address) : null;
    const wait = key ? failures.blockedFor(key) : 0;
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new AppError('too_many_requests', `Too many failed authentication attempts from this client; try again in ${wait} s`);
    }
    await next();
    if (key && c.res.status === 401) failures.hit(key);
  });
}

/** Every request counts: past the limit, 429 with Retry-After until the client's window ends. */
export function limitRequests<E extends AppEnv = AppEnv>(requests: FixedWindowCounter) {
  return createMiddleware<E>(async (c, next) => {
    const address = c.get('clientAddress');
    const key = address && address !== 'unknown' ? limitKeyOf(address) : null;
    if (key) {
      const wait = requests.blockedFor(key);
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        throw new AppError('too_many_requests', `Too many requests from this client; try again in ${wait} s`);
      }
      requests.hit(key);
    }
    await next();
  });
}
