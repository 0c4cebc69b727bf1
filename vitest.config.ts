import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // better-sqlite3 is a native addon: forks isolate it cleanly between files.
    pool: 'forks',
  },
});
