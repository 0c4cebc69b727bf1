import type { z } from 'zod';
import { AppError } from './errors.ts';

/**
 * Parses input (a query string's parameters, a CLI's options, a form) with a zod schema, or
 * throws AppError('bad_request') naming every bad parameter. `nameOf` renames parameters in the
 * message (CLI flags).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, nameOf: (key: string) => string = (key) => key): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new AppError('bad_request', describeInputIssues(parsed.error.issues, nameOf));
  return parsed.data;
}

/** The 400 message for a failed parse: every bad parameter, by name. Shared with the HTTP routes' validation (src/http/openapi.ts). */
export function describeInputIssues(issues: readonly z.core.$ZodIssue[], nameOf: (key: string) => string = (key) => key): string {
  return issues
    .map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown parameter(s): ${i.keys.map(nameOf).join(', ')}`
        : `${i.path.map((p) => nameOf(String(p))).join('.')}: ${i.message}`,
    )
    .join('; ');
}
