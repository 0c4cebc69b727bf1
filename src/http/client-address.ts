import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { expandIPv6 } from 'hono/utils/ipaddr';
import type { AppEnv } from './context.ts';

/**
 * Who the client is and whether it came over https, for rate limits, the request log and the
 * dashboard's cookie check. Headers a client can write itself are believed only when TRUST_PROXY
 * says a proxy in front of the registry sets them:
 *
 * - `off` (TRUST_PROXY unset or `false`): the socket's address and the request URL's scheme.
 * - `hops` (`true` = 1, or a number of proxies): the address `hops` entries from the right of
 *   X-Forwarded-For (each proxy appends the peer it saw, so the entries on the right are the ones
 *   our own proxies wrote), and X-Forwarded-Proto read the same way.
 * - `header` (a header name such as `x-real-ip` or `cf-connecting-ip`): the address the one
 *   trusted proxy puts in that header (its last value), and the last X-Forwarded-Proto.
 *
 * A header that is missing or not an IP address falls back to the socket's address.
 */
export type TrustProxy = { mode: 'off' } | { mode: 'hops'; hops: number } | { mode: 'header'; header: string };

export const TRUST_NO_PROXY: TrustProxy = { mode: 'off' };
/** More proxies than this in front of one service is a configuration mistake. */
const MAX_TRUSTED_HOPS = 10;

/** TRUST_PROXY's value, or null when it is none of the forms above. */
export function parseTrustProxy(raw: string | undefined): TrustProxy | null {
  const value = (raw ?? '').trim();
  if (value === '' || value.toLowerCase() === 'false' || value === '0') return TRUST_NO_PROXY;
  if (value.toLowerCase() === 'true') return { mode: 'hops', hops: 1 };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops >= 1 && hops <= MAX_TRUSTED_HOPS ? { mode: 'hops', hops } : null;
  }
  if (/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(value)) return { mode: 'header', header: value.toLowerCase() };
  return null;
}

/** The socket peer's address under @hono/node-server; undefined elsewhere (app.request() without bindings). */
function socketAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: unknown; server?: unknown } | undefined;
  if (!env?.incoming && !env?.server) return undefined;
  return getConnInfo(c).remote.address;
}

const listOf = (header: string | undefined) =>
  (header ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** The entry `hops` from the right; the leftmost when there are fewer (then every entry came from our proxies). */
const fromRight = (items: string[], hops: number) => (items.length >= hops ? items[items.length - hops] : items[0]);

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is 1.2.3.4. */
function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

export interface ClientResolver {
  /** The client's address, or `unknown` when there is no socket (in-process requests). */
  address(c: Context): string;
  /** True when the client reached us over https (directly, or at a trusted proxy). */
  isHttps(c: Context): boolean;
}

export function createClientResolver(trust: TrustProxy): ClientResolver {
  const forwardedAddress = (c: Context): string | undefined => {
    if (trust.mode === 'hops') return fromRight(listOf(c.req.header('x-forwarded-for')), trust.hops);
    if (trust.mode === 'header') return listOf(c.req.header(trust.header)).at(-1);
    return undefined;
  };
  return {
    address(c) {
      const forwarded = forwardedAddress(c);
      if (forwarded && isIP(forwarded)) return normalizeAddress(forwarded);
      const socket = socketAddress(c);
      return socket ? normalizeAddress(socket) : 'unknown';
    },
    isHttps(c) {
      if (trust.mode !== 'off') {
        const protos = listOf(c.req.header('x-forwarded-proto'));
        const proto = trust.mode === 'hops' ? fromRight(protos, trust.hops) : protos.at(-1);
        if (proto) return proto.toLowerCase() === 'https';
      }
      return new URL(c.req.url).protocol === 'https:';
    },
  };
}

/** Sets `clientAddress` for everything after it (limits, the request log). */
export function clientAddressContext(resolver: ClientResolver) {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set('clientAddress', resolver.address(c));
    await next();
  });
}

/**
 * The key a per-client limit counts under: the address, except that an IPv6 client counts by its
 * /64, since one host is usually given a whole /64 and could otherwise rotate through it.
 */
export function limitKeyOf(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return `${expandIPv6(address.split('%')[0]!).split(':').slice(0, 4).join(':')}::/64`;
  } catch {
    return address;
  }
}

/**
 * Whether the Host the browser used is a loopback name: browsers keep `Secure` cookies on
 * http://localhost, 127.0.0.0/8 and [::1], so the dashboard works there without https.
 */
export function isLoopbackHost(c: Context): boolean {
  const host = new URL(c.req.url).hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
