import { Hono } from 'hono';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, type InstallationQueries } from './queries.ts';

export const listQuerySchema = z
  .object({
    status: z.enum(['active', 'removed']).optional(),
    limit: z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).default(LIST_LIMIT_DEFAULT),
    cursor: z.string().min(1).max(512).optional(),
  })
  .strict();

export function parseQuery<T>(schema: z.ZodType<T>, query: Record<string, string>): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((i) => (i.code === 'unrecognized_keys' ? `unknown parameter(s): ${i.keys.join(', ')}` : `${i.path.join('.')}: ${i.message}`))
      .join('; ');
    throw new AppError('bad_request', message);
  }
  return parsed.data;
}

/** GET /v1/installations and /v1/installations/:instanceId. */
export function createInstallationRoutes(deps: { queries: InstallationQueries }) {
  const routes = new Hono<AppEnv>();
  routes.get('/', (c) => c.json(deps.queries.list(parseQuery(listQuerySchema, c.req.query()))));
  routes.get('/:instanceId', (c) => {
    const found = deps.queries.get(c.req.param('instanceId'));
    if (!found) throw new AppError('not_found', 'No installation with that instanceId');
    return c.json(found);
  });
  return routes;
}
