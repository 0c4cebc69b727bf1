// Worker threads do not inherit tsx's loader: register it in this thread, then load the
// TypeScript worker, which signs with the sandbox's signer (src/sandbox/webhook-signer.ts).
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
await import('./sign-worker.ts');
