import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * JSON logs on stdout. The redact list is a second line of defence: code never logs secrets or
 * tokens on purpose, and these paths are censored should one slip into a log object.
 */
export function createLogger(level: LogLevel | 'silent' = 'info'): Logger {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: [
        'appSecret',
        '*.appSecret',
        'accessToken',
        '*.accessToken',
        'access_token',
        '*.access_token',
        'client_secret',
        '*.client_secret',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'jwt',
        '*.jwt',
      ],
      censor: '[redacted]',
    },
  });
}
