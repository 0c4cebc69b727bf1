import { createMiddleware } from 'hono/factory';
import { AppError } from '../errors.ts';
import type { AppEnv } from '../http/context.ts';
import { WixCallError } from './errors.ts';
import type { InstanceTokenChecker, VerifiedInstance } from './token-info.ts';

export type InstanceEnv = AppEnv & { Variables: { instance: VerifiedInstance } };

/**
 * Hono middleware for the app's own routes called from its frontend: reads the Wix access token
 * that `fetchWithAuth()` sends (`Authorization: <token>`, `Bearer <token>` also accepted),
 * checks it with Wix's token-info, and sets `c.var.instance`. 401 unless the token is active,
 * issued to this app and names an instance; 502 if Wix cannot be asked.
 */
export function wixInstanceAuth(check: InstanceTokenChecker) {
  return createMiddleware<InstanceEnv>(async (c, next) => {
    const header = c.req.header('authorization')?.trim() ?? '';
    const token = header.replace(/^Bearer\s+/i, '').trim();
    if (!token || /\s/.test(token) || token.length > 4096) {
      throw new AppError('unauthorized', 'Send the Wix access token of the site (Authorization: <token>)');
    }
    let result;
    try {
      result = await check(token);
    } catch (err) {
      if (err instanceof WixCallError) throw new AppError('bad_gateway', 'Wix could not check the access token', { cause: err });
      throw err;
    }
    if (!result.ok) throw new AppError('unauthorized', 'Access token refused', { logContext: { reason: result.reason } });
    c.set('instance', result.instance);
    await next();
  });
}
