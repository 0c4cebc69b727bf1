import { defineConfig } from 'tsup';

// ESM (dist/index.js) and CommonJS (dist/index.cjs), each with its own declarations
// (index.d.ts, index.d.cts), for Node 20. @wix/sdk is a peer dependency and stays external.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: false,
  splitting: false,
});
