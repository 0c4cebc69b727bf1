#!/usr/bin/env node
// The `wix-registry` command. The code is TypeScript run through tsx's loader, so there is
// no build step between a fresh clone and a running registry.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

// The project's tsconfig, wherever the command is run from (JSX for the dashboard, module settings).
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/cli/index.ts');
