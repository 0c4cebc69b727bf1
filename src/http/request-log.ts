import { createMiddleware } from 'hono/factory';
import { boundText, type Logger } from '../logger.ts';
import type { AppEnv } from './context.ts';

/** Outside strings on the request line are cut to these lengths (issue 12: bounded logs). */
const PATH_MAX_CHARS = 256;
const USER_AGENT_MAX_CHARS = 200;

/**
 * One log line per request: method, path (no query string: it may carry search terms), status,
 * duration, the client's address and, once a key authenticated, its fingerprint. Logged at info
 * for every failure and every request an API key or dashboard session made (who did what);
 * other successes (webhooks, probes) only at debug, where volume is the point. A client that
 * went away mid-request is a warning, not an error: nothing on our side failed.
 */
export function requestLog(logger: Logger) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    c.set('logger', logger);
    c.set('logFields', {});
    await next();
    const status = c.res.status;
    const userAgent = c.req.header('user-agent');
    const fields: Record<string, unknown> = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: boundText(c.req.path, PATH_MAX_CHARS),
      status,
      ms: Math.round((performance.now() - started) * 100) / 100,
      client: c.get('clientAddress'),
      ...(c.get('apiKeyId') ? { apiKeyId: c.get('apiKeyId') } : {}),
      ...(userAgent ? { userAgent: boundText(userAgent, USER_AGENT_MAX_CHARS) } : {}),
      ...c.get('logFields'),
    };
    if (fields.clientAborted) logger.warn(fields, 'request abandoned by the client');
    else if (status >= 500) logger.error(fields, 'request failed');
    else if (status >= 400 || fields.apiKeyId || logger.isLevelEnabled('debug')) logger.info(fields, 'request');
  });
}
