import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { AppEnv } from './context.ts';

/** Wix instance ids are UUIDs (36 characters); anything past this is not one (issue 12: an 8,000-character id reached the token audit). */
export const INSTANCE_ID_MAX_LENGTH = 200;

/** The `{instanceId}` path parameter, as route definitions declare it. */
export const instanceIdParamsSchema = z.object({
  instanceId: z.string().min(1).max(INSTANCE_ID_MAX_LENGTH).meta({ description: 'The Wix app instance id.' }),
});

/**
 * For routes with an `:instanceId` parameter: 400 before the handler when the id is longer than
 * INSTANCE_ID_MAX_LENGTH, with a message of its own (the parameter's schema would refuse it too,
 * in zod's words).
 */
export function checkInstanceIdParam<E extends AppEnv = AppEnv>(): MiddlewareHandler<E> {
  return async (c, next) => {
    const instanceId = (c as unknown as Context<AppEnv>).req.param('instanceId') ?? '';
    if (instanceId.length > INSTANCE_ID_MAX_LENGTH) {
      throw new AppError('bad_request', `instanceId is longer than ${INSTANCE_ID_MAX_LENGTH} characters`);
    }
    await next();
  };
}
