import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Change, ChangeType } from '../../client/src/index.ts';

/** One injected failure, consumed by the next request. */
export type ChangesFault = { kind: 'status'; status: number; retryAfter?: string; code?: string } | { kind: 'drop' };

export interface SeenRequest {
  after: string | null;
  limit: number;
  wait: number;
  authorization: string | undefined;
}

/**
 * A stand-in for the registry's GET /v1/changes as contract.md describes it (the real route is
 * being built elsewhere): Bearer key, `after`/`limit`/`wait`, cursors that continue exactly where
 * a page ended, long-polls held until a change is appended (answered at once) or the wait ends
 * (an empty page), and failures on demand. Cursors are `c<position>`, opaque to the client.
 */
export async function startFakeChanges(options: { apiKey: string }) {
  const changes: Change[] = [];
  const faults: ChangesFault[] = [];
  const requests: SeenRequest[] = [];
  const waiting = new Set<() => void>();
  let open = 0;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { error: { code, message, requestId: `req-${requests.length}` } }, headers);

  const page = (after: number, limit: number) => {
    const items = changes.slice(after, after + limit);
    return { items, nextCursor: `c${after + items.length}` };
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== '/v1/changes') return error(res, 404, 'not_found', 'No such route');
    const after = url.searchParams.get('after');
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const wait = Number(url.searchParams.get('wait') ?? 0);
    requests.push({ after, limit, wait, authorization: req.headers.authorization });
    const fault = faults.shift();
    if (fault?.kind === 'drop') return req.socket.destroy();
    if (fault?.kind === 'status') {
      return error(res, fault.status, fault.code ?? 'internal', 'injected', fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
    }
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) return error(res, 401, 'unauthorized', 'Missing or invalid API key');
    const position = after === null ? 0 : /^c\d+$/.test(after) ? Number(after.slice(1)) : NaN;
    if (!Number.isInteger(position) || position > changes.length) return error(res, 400, 'bad_request', 'after: not a cursor of this feed');
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return error(res, 400, 'bad_request', 'limit: 1–1000');
    if (!Number.isInteger(wait) || wait < 0 || wait > 60) return error(res, 400, 'bad_request', 'wait: 0–60');
    if (position < changes.length || wait === 0) return send(res, 200, page(position, limit));

    // Nothing to return: hold the request until a change commits or the wait ends.
    open += 1;
    const answer = () => {
      clearTimeout(timer);
      waiting.delete(answer);
      open -= 1;
      if (!res.writableEnded && !res.destroyed) send(res, 200, page(position, limit));
    };
    const timer = setTimeout(answer, wait * 1000);
    waiting.add(answer);
    res.on('close', () => {
      if (waiting.has(answer)) {
        clearTimeout(timer);
        waiting.delete(answer);
        open -= 1;
      }
    });
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Long-polls being held right now. */
    held: () => open,
    /** Commits a change and wakes every held long-poll. */
    append(type: ChangeType = 'installation.installed', instanceId = `inst-${changes.length + 1}`): Change {
      const at = new Date(Date.UTC(2026, 10, 1) + changes.length * 1000).toISOString();
      const change: Change = {
        id: `chg-${changes.length + 1}`,
        type,
        instanceId,
        occurredAt: at,
        recordedAt: at,
        installation: {
          instanceId,
          appId: 'app-1',
          status: type === 'installation.removed' ? 'removed' : 'active',
          installedAt: at,
          installedAtInferred: false,
          removedAt: type === 'installation.removed' ? at : null,
          updatedAt: at,
          firstSeenAt: at,
          lastEventAt: at,
          originInstanceId: null,
          configuredAt: null,
          checkedAt: null,
          site: { siteId: null, accountId: null, name: null, url: null, syncedAt: null },
          plan: { isFree: null, vendorProductId: null, cycle: null, expiresOn: null, autoRenewing: null, changedAt: null },
          appVersion: null,
        },
      };
      changes.push(change);
      for (const wake of [...waiting]) wake();
      return change;
    },
    fail: (...queued: ChangesFault[]) => faults.push(...queued),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type FakeChanges = Awaited<ReturnType<typeof startFakeChanges>>;
