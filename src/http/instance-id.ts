import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import type { AppEnv } from './context.ts';

/** Wix instance ids are UUIDs (36 characters); anything past this is not one (issue 12: an 8,000-character id reached the token audit). */
export const INSTANCE_ID_MAX_LENGTH = 200;

/** For routes with an `:instanceId` parameter: 400 before the handler when the id is longer than INSTANCE_ID_MAX_LENGTH. */
export function checkInstanceIdParam<E extends AppEnv = AppEnv>(): MiddlewareHandler<E> {
  return async (c, next) => {
    const instanceId = (c as unknown as Context<AppEnv>).req.param('instanceId') ?? '';
    if (instanceId.length > INSTANCE_ID_MAX_LENGTH) {
      throw new AppError('bad_request', `instanceId is longer than ${INSTANCE_ID_MAX_LENGTH} characters`);
    }
    await next();
  };
}
