/**
 * The interference probe: one signed webhook every `intervalMs`, each on a connection of its own
 * (as Wix opens them), timed from the moment the request is made (connect included) to the
 * last byte of the answer. A probe not answered within `timeoutMs` is given up and counted as
 * unanswered: for Wix that delivery failed and will be resent. The probe never waits for an
 * earlier one: it keeps its schedule, so a stalled server meets every probe it would meet in
 * production (no coordinated omission).
 */
import { request } from 'node:http';
import { percentile } from './report.ts';

export interface ProbeSpec {
  url: string;
  /** One signed delivery per probe, each sent once; the probe stops when they run out. */
  bodies: readonly string[];
  intervalMs: number;
  durationSec: number;
  timeoutMs: number;
}

export interface ProbeResult {
  sent: number;
  /** Answered with any status within timeoutMs. */
  answered: number;
  ok: number;
  /** Answered, but not 200 (counted by status). */
  statusCodes: Record<string, number>;
  /** No answer within timeoutMs. */
  unanswered: number;
  /** The connection failed (refused, reset) before an answer. */
  errors: number;
  /**
   * Latency percentiles over every probe sent, ms; a probe without an answer counts as slower
   * than any answer, and a percentile that falls on one is null ("no answer").
   */
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** The slowest answer that did arrive, ms. */
  maxAnswered: number;
  /** How late the sender itself was against its schedule at worst (client-side noise), ms. */
  maxSendLagMs: number;
  durationSec: number;
}

type Outcome = { kind: 'answered'; status: number; ms: number } | { kind: 'unanswered' } | { kind: 'error' };

function sendProbe(url: URL, body: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/webhooks/wix',
        method: 'POST',
        // A connection of its own, closed after the answer: never queued behind another request.
        agent: false,
        headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => settle({ kind: 'answered', status: res.statusCode ?? 0, ms: performance.now() - started }));
        res.on('error', () => settle({ kind: 'error' }));
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: 'unanswered' });
      req.destroy();
    }, timeoutMs);
    req.on('error', () => settle({ kind: 'error' }));
    req.end(body);
  });
}

export async function runProbes(spec: ProbeSpec): Promise<ProbeResult> {
  const url = new URL(spec.url);
  const count = Math.min(spec.bodies.length, Math.floor((spec.durationSec * 1000) / spec.intervalMs));
  const outcomes: Promise<Outcome>[] = [];
  const started = performance.now();
  let maxSendLagMs = 0;
  for (let i = 0; i < count; i++) {
    const due = started + i * spec.intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - due);
    outcomes.push(sendProbe(url, spec.bodies[i]!, spec.timeoutMs));
  }
  const sendingSec = (performance.now() - started) / 1000;
  return summarizeProbes(await Promise.all(outcomes), maxSendLagMs, sendingSec);
}

export function summarizeProbes(outcomes: readonly Outcome[], maxSendLagMs: number, durationSec: number): ProbeResult {
  const statusCodes: Record<string, number> = {};
  const latencies: number[] = [];
  let ok = 0;
  let unanswered = 0;
  let errors = 0;
  for (const outcome of outcomes) {
    if (outcome.kind === 'answered') {
      latencies.push(outcome.ms);
      statusCodes[outcome.status] = (statusCodes[outcome.status] ?? 0) + 1;
      if (outcome.status === 200) ok++;
    } else if (outcome.kind === 'unanswered') unanswered++;
    else errors++;
  }
  latencies.sort((a, b) => a - b);
  const all = [...latencies, ...Array<number>(outcomes.length - latencies.length).fill(Infinity)];
  const finite = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
  return {
    sent: outcomes.length,
    answered: latencies.length,
    ok,
    statusCodes,
    unanswered,
    errors,
    p50: finite(percentile(all, 50)),
    p99: finite(percentile(all, 99)),
    max: finite(all.length ? all[all.length - 1]! : NaN),
    maxAnswered: latencies.length ? Math.round(latencies[latencies.length - 1]! * 100) / 100 : 0,
    maxSendLagMs: Math.round(maxSendLagMs * 100) / 100,
    durationSec: Math.round(durationSec * 1000) / 1000,
  };
}
