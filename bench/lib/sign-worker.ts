/**
 * One worker thread's share of a webhook pool (started through sign-worker.mjs): AppInstalled
 * deliveries signed by the same signer `wix-registry simulate` and the sandbox use.
 */
import { createPrivateKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { appInstalledWebhook, type PoolItem } from './webhooks.ts';

interface SignJob {
  privateKeyPem: string;
  appId: string;
  iat: number;
  items: PoolItem[];
}

const job = workerData as SignJob;
const key = createPrivateKey(job.privateKeyPem);
parentPort!.postMessage(job.items.map((item) => signWixWebhook(key, appInstalledWebhook(job.appId, item, job.iat), 'bench')));
