import type { z } from 'zod';
import { AppError } from './errors.ts';

/**
 * Parses input (a query string's parameters, a CLI's options, a form) with a zod schema, or
 * throws AppError('bad_request') naming every bad parameter. `nameOf` renames parameters in the
 * message (CLI flags).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, nameOf: (key: string) => string = (key) => key): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown parameter(s): ${i.keys.map(nameOf).join(', ')}`
          : `${i.path.map((p) => nameOf(String(p))).join('.')}: ${i.message}`,
      )
      .join('; ');
    throw new AppError('bad_request', message);
  }
  return parsed.data;
}
