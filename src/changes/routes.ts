import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { requireScope } from '../http/scopes.ts';
import { parseInput } from '../parse-input.ts';
import { changesQuerySchema, type ChangeFeed } from './feed.ts';

/** GET /v1/changes: the change feed, in commit order, long-polled with `wait`. */
export function createChangeRoutes(deps: { feed: ChangeFeed }) {
  const routes = new Hono<AppEnv>();
  routes.get('/', requireScope('read'), async (c) => {
    const query = parseInput(changesQuerySchema, c.req.query());
    // A client that hangs up ends its long-poll: nothing waits for nobody.
    const page = await deps.feed.page(query, c.req.raw.signal);
    c.header('Cache-Control', 'no-store');
    return c.json(page);
  });
  return routes;
}
