import type { Server } from 'node:http';
import type { Logger } from '../logger.ts';

/**
 * The HTTP server's own limits (issue 12: a body trickled at one byte every 9 s held a connection
 * for 150 s and more). Node enforces them below Hono; main.ts applies them to the server
 * @hono/node-server created, before it starts listening.
 */
export interface ServerLimits {
  /** The request line and headers must have arrived within this (else 408 and the connection closes). */
  headersTimeoutMs: number;
  /** The whole request, headers and body, must have arrived within this (else 408 and the connection closes). */
  requestTimeoutMs: number;
  /**
   * A connection with no traffic either way for this long is closed: a client that stopped
   * reading a response, or went silent. Longer than any wait the API asks for (a long-poll holds
   * up to 60 s).
   */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; past it new ones are closed at once. */
  maxConnections: number;
  /** How often Node checks the two timeouts above: their precision. */
  timeoutCheckIntervalMs: number;
}

export const HEADERS_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 15_000;
export const IDLE_TIMEOUT_MS = 90_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const MAX_CONNECTIONS = 1_024;
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  idleTimeoutMs: IDLE_TIMEOUT_MS,
  keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  maxConnections: MAX_CONNECTIONS,
  timeoutCheckIntervalMs: TIMEOUT_CHECK_INTERVAL_MS,
};

/** At most one "connection cap reached" warning per this interval, with the count since the last one. */
const DROP_WARNING_INTERVAL_MS = 10_000;

/**
 * Sets the limits on a Node HTTP server. Call it before the server emits 'listening' (right
 * after @hono/node-server's serve() returns): Node starts its timeout checker then, at
 * `connectionsCheckingInterval`. headersTimeout and requestTimeout answer 408 themselves when
 * no response has started, and close the connection.
 */
export function applyServerLimits(server: Server, options: { limits?: Partial<ServerLimits>; logger?: Logger } = {}): ServerLimits {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  // Node requires headersTimeout <= requestTimeout when both are set.
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.idleTimeoutMs);
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = limits.timeoutCheckIntervalMs;

  const { logger } = options;
  if (logger) {
    let dropped = 0;
    let lastWarnedAt = Number.NEGATIVE_INFINITY;
    server.on('drop', () => {
      dropped++;
      const now = performance.now();
      if (now - lastWarnedAt < DROP_WARNING_INTERVAL_MS) return;
      logger.warn({ dropped, maxConnections: limits.maxConnections }, 'connection cap reached: new connections closed');
      lastWarnedAt = now;
      dropped = 0;
    });
  }
  return limits;
}
