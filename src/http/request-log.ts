import { createMiddleware } from 'hono/factory';
import type { Logger } from '../logger.ts';
import type { AppEnv } from './context.ts';

/** One log line per request: method, path (no query string: it may carry search terms), status, duration. */
export function requestLog(logger: Logger) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    c.set('logger', logger);
    c.set('logFields', {});
    await next();
    const status = c.res.status;
    const fields = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 100) / 100,
      ...c.get('logFields'),
    };
    if (status >= 500) logger.error(fields, 'request failed');
    else if (logger.isLevelEnabled('debug') || status >= 400) logger.info(fields, 'request');
  });
}
