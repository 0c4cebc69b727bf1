// Entry of a database thread when its bundle cannot be had (thread-code.ts): worker threads do not inherit the main thread's TypeScript
// loader, so each registers tsx (with the project's tsconfig) before loading its .ts module.
import { workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url)) });
await import(workerData.entry);
