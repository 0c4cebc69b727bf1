import { createRoute } from '@hono/zod-openapi';
import { changePageSchema } from '../http/api-schemas.ts';
import { createOpenApiRoutes } from '../http/openapi.ts';
import { apiKeyAccess, BAD_QUERY, errorResponses, ok } from '../http/openapi-parts.ts';
import { changesQuerySchema, type ChangeFeed } from './feed.ts';

const read = apiKeyAccess('read');

const listChanges = createRoute({
  ...read.operation,
  method: 'get',
  path: '/',
  operationId: 'listChanges',
  tags: ['Changes'],
  summary: 'Follow every installation change, in commit order (long-poll with `wait`)',
  description:
    'Pages through the change feed: installs, removals, plan changes, site updates and configurations, each recorded in the transaction that made it. ' +
    'Continue with `after=<nextCursor>`: nothing is skipped and nothing repeated, across restarts too. With `wait`, a request that has nothing to return is held until a change commits.',
  request: { query: changesQuerySchema },
  responses: {
    200: ok('Changes after `after`, oldest first (empty when the wait ended with none).', changePageSchema),
    ...errorResponses({ 400: `${BAD_QUERY} Also an \`after\` this feed did not hand out.`, ...read.errors }),
  },
});

/** GET /v1/changes: the change feed, in commit order, long-polled with `wait`. */
export function createChangeRoutes(deps: { feed: ChangeFeed }) {
  const routes = createOpenApiRoutes();
  routes.openapi(listChanges, async (c) => {
    // A client that hangs up ends its long-poll: nothing waits for nobody.
    const page = await deps.feed.page(c.req.valid('query'), c.req.raw.signal);
    c.header('Cache-Control', 'no-store');
    return c.json(page, 200);
  });
  return routes;
}
