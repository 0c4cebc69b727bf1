/**
 * Database threads run bundled code (src/db/sqlite/threads/thread-code.ts), not the tsx loader:
 * one V8 isolate per thread instead of two. The bundle is keyed by the content of its sources.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { threadCode } from '../../src/db/sqlite/threads/thread-code.ts';

describe('the code database threads run', () => {
  it('is a bundle in the cache, listed with the hash of every source in it', async () => {
    const writer = await threadCode('writer');
    const reader = await threadCode('reader');
    expect(writer.file.pathname).toMatch(/node_modules\/\.cache\/wix-registry\/threads\/[0-9a-f]{16}\/writer\.mjs$/);
    expect(reader.file.pathname).toMatch(/\/reader\.mjs$/);
    expect(writer.data).toEqual({}); // no tsx bootstrap entry
    const manifestPath = new URL('manifest.json', new URL('..', writer.file));
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { inputs: Record<string, string> };
    for (const source of ['src/db/sqlite/writer.ts', 'src/db/sqlite/reads/index.ts', 'src/installations/writes.ts']) {
      const content = readFileSync(fileURLToPath(new URL(`../../${source}`, import.meta.url)));
      expect(manifest.inputs[source], source).toBe(createHash('sha256').update(content).digest('hex'));
    }
  });
});
