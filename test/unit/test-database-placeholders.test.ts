import { describe, expect, it } from 'vitest';
import { postgresPlaceholders } from '../helpers/database.ts';

describe("the test connection's SQL on PostgreSQL", () => {
  it('numbers the ? placeholders in order', () => {
    expect(postgresPlaceholders('UPDATE t SET a = ?, b = ? WHERE id = ?')).toBe('UPDATE t SET a = $1, b = $2 WHERE id = $3');
  });

  it('leaves a ? inside a string, a quoted name or a comment alone', () => {
    expect(postgresPlaceholders(`SELECT '?' AS "why?", x FROM t WHERE y = ? -- why?\nAND z = ?`)).toBe(
      `SELECT '?' AS "why?", x FROM t WHERE y = $1 -- why?\nAND z = $2`,
    );
    expect(postgresPlaceholders(`SELECT 'it''s ?' WHERE a = ?`)).toBe(`SELECT 'it''s ?' WHERE a = $1`);
  });
});
