#!/usr/bin/env node
// The `wix-registry` command. The code is TypeScript run through tsx's loader, so there is
// no build step between a fresh clone and a running registry.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
