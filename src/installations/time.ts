/** Times are stored as epoch milliseconds and shown as ISO-8601 in UTC. */
export const DAY_MS = 86_400_000;

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : iso(ms));

/** The UTC date (YYYY-MM-DD) of an instant. */
export const utcDate = (ms: number): string => iso(ms).slice(0, 10);
