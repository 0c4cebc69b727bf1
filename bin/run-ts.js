#!/usr/bin/env node
// Runs a TypeScript file with tsx's loader: `node bin/run-ts.js path/to/file.ts [args…]`.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

// The project's tsconfig, wherever the command is run from (JSX for the dashboard, module settings).
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: run-ts <file.ts> [args…]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
