import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/** No log line is longer than this, whatever a request carries (issue 12: a 40 KB `alg` made a 40 KB line). */
export const LOG_LINE_MAX_BYTES = 4096;
/** Any one string in a log object is cut to this many characters before it is written. */
export const LOG_STRING_MAX_CHARS = 1024;
/** Nesting deeper than this is summarized: nothing the code logs on purpose goes that deep. */
const LOG_MAX_DEPTH = 6;
/** Array items kept per array. */
const LOG_MAX_ITEMS = 50;

/**
 * A string from outside (a path, a user agent, a refusal reason quoting a JWT header) cut to
 * `maxChars`, saying how much was cut, so a log line stays readable and small.
 */
export function boundText(value: string, maxChars = 256): string {
  if (value.length <= maxChars) return value;
  return `${value.slice(0, maxChars)}…[+${value.length - maxChars} chars]`;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** A copy with every string bounded; errors and other class instances are left to pino's serializers. */
function boundStrings(value: unknown, maxChars: number, depth = 0): unknown {
  if (typeof value === 'string') return boundText(value, maxChars);
  if (Array.isArray(value)) {
    if (depth >= LOG_MAX_DEPTH) return `[array of ${value.length}]`;
    const items = value.slice(0, LOG_MAX_ITEMS).map((item) => boundStrings(item, maxChars, depth + 1));
    if (value.length > LOG_MAX_ITEMS) items.push(`…[+${value.length - LOG_MAX_ITEMS} items]`);
    return items;
  }
  if (isPlainObject(value)) {
    if (depth >= LOG_MAX_DEPTH) return '[object]';
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[boundText(key, 64)] = boundStrings(item, maxChars, depth + 1);
    return out;
  }
  return value;
}

/** Fields kept when a line must be cut down to its essentials. */
const ESSENTIAL_FIELDS = ['level', 'time', 'msg', 'requestId', 'method', 'status', 'code', 'client', 'apiKeyId'];

/**
 * The last line of defence, on the serialized line: one over LOG_LINE_MAX_BYTES (many fields,
 * each under the per-string bound, or an error's stack) is rebuilt with shorter strings, and as
 * a last resort with only its essential fields, marked `"truncated": true`. It stays one JSON line.
 */
export function fitLogLine(line: string, maxBytes = LOG_LINE_MAX_BYTES): string {
  if (Buffer.byteLength(line) <= maxBytes) return line;
  const newline = line.endsWith('\n') ? '\n' : '';
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${JSON.stringify({ msg: 'log line dropped: over the size limit and not JSON', truncated: true })}${newline}`;
  }
  for (const maxChars of [256, 64, 16]) {
    const attempt = `${JSON.stringify({ ...(boundStrings(parsed, maxChars) as Record<string, unknown>), truncated: true })}${newline}`;
    if (Buffer.byteLength(attempt) <= maxBytes) return attempt;
  }
  const essentials: Record<string, unknown> = {};
  for (const key of ESSENTIAL_FIELDS) if (key in parsed) essentials[key] = boundStrings(parsed[key], 128);
  return `${JSON.stringify({ ...essentials, truncated: true })}${newline}`;
}

/**
 * JSON logs on stdout (or `destination`). The redact list is a second line of defence: code
 * never logs secrets or tokens on purpose, and these paths are censored should one slip into a
 * log object. Every string is bounded and every line fits in LOG_LINE_MAX_BYTES.
 */
export function createLogger(level: LogLevel | 'silent' = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    formatters: {
      log: (object: Record<string, unknown>) => boundStrings(object, LOG_STRING_MAX_CHARS) as Record<string, unknown>,
    },
    hooks: { streamWrite: (line: string) => fitLogLine(line) },
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
  };
  return destination ? pino(options, destination) : pino(options);
}
