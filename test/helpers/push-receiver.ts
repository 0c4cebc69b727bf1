import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Change } from '../../src/changes/serialize.ts';

/** What the next request gets instead of a 200 (consumed in order). */
export type ReceiverFault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'drop' }
  /** Answer nothing until `release()` (or the registry gives up). */
  | { kind: 'hold' };

export interface ReceivedPush {
  /** The request's path and query. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** What standardwebhooks' verify made of it (null: the signature did not verify). */
  verified: { type: string; timestamp: string; data: Change } | null;
  /** The answer it got: a status, or 'dropped' / 'held'. */
  answer: number | 'dropped' | 'held';
}

/**
 * One of the app's services receiving pushed changes over real HTTP on 127.0.0.1, verifying each
 * with the `standardwebhooks` package (the receiving side of the Standard Webhooks spec), with
 * failures on demand.
 */
export async function startPushReceiver(secret: string) {
  const webhook = new Webhook(secret);
  const received: ReceivedPush[] = [];
  const faults: ReceiverFault[] = [];
  const held = new Set<ServerResponse>();
  let alwaysFail: number | null = null;

  function handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    let verified: ReceivedPush['verified'];
    try {
      verified = webhook.verify(body, headers) as ReceivedPush['verified'];
    } catch {
      verified = null; // forged, altered or too old: the receiver refuses it (401)
    }
    const fault: ReceiverFault | undefined = faults.shift() ?? (alwaysFail === null ? undefined : { kind: 'status', status: alwaysFail });
    const entry: ReceivedPush = { url: req.url ?? '', headers, body, verified, answer: 200 };
    received.push(entry);
    if (fault?.kind === 'drop') {
      entry.answer = 'dropped';
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hold') {
      entry.answer = 'held';
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (fault?.kind === 'status') {
      entry.answer = fault.status;
      res.writeHead(fault.status, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
      res.end('no');
      return;
    }
    entry.answer = verified ? 204 : 401;
    res.writeHead(entry.answer);
    res.end();
  }

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/registry`,
    received,
    /** The changes it accepted (2xx), in arrival order. */
    accepted: () => received.filter((r) => r.answer === 204).map((r) => r.verified!.data),
    fail: (...queued: ReceiverFault[]) => faults.push(...queued),
    /** Every request fails with this status from now on (null: back to normal). */
    failAlways: (status: number | null) => (alwaysFail = status),
    /** Requests held open right now. */
    holding: () => held.size,
    /** Answers every held request with 204. */
    release() {
      for (const res of held) {
        res.writeHead(204);
        res.end();
      }
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type PushReceiver = Awaited<ReturnType<typeof startPushReceiver>>;

/** A REGISTRY_EVENT_SECRET: whsec_ and the base64 of 32 random bytes. */
export function newEventSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}
