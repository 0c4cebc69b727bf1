/**
 * The bench's seeded database must be one the registry really serves: this test seeds a small
 * one with seed-sqlite.ts and asks a real `wix-registry serve` process about it. When the
 * schema changes and seed-sqlite.ts is not adapted, this turns red.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInstallations, SEED_EPOCH_MS, type SeedSummary } from '../../bench/lib/seed-data.ts';
import { seedSqlite } from '../../bench/lib/seed-sqlite.ts';
import { appInstalledWebhook, generateSigningKey, type SigningKey } from '../../bench/lib/webhooks.ts';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { liveRegistryEnv, spawnRegistry, type ServerProcess } from '../helpers/process.ts';

const INSTALLATIONS = 3_000;
const API_KEY = 'bench-seed-test-key-0123456789';
const APP_ID = '7f1b3c2e-0d4a-4e5b-9c6d-8e7f6a5b4c3d';
const DAY_MS = 86_400_000;

let dir: string;
let summary: SeedSummary;
let registry: ServerProcess;
let key: SigningKey;

const api = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${registry.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-seed-'));
  const path = join(dir, 'seeded.db');
  const generated = generateInstallations(INSTALLATIONS);
  await seedSqlite(path, generated.rows);
  summary = generated.summary;
  key = generateSigningKey();
  registry = await spawnRegistry(
    liveRegistryEnv({
      appId: APP_ID,
      appSecret: 'bench-seed-test-secret',
      publicKeyPem: key.publicKeyPem,
      wixUrl: 'http://127.0.0.1:9',
      databasePath: path,
      overrides: { REGISTRY_API_KEYS: API_KEY, LOG_LEVEL: 'info' },
    }),
  );
}, 60_000);

afterAll(async () => {
  registry?.child.kill('SIGTERM');
  await registry?.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe('the bench seeder (seed-sqlite.ts)', () => {
  it('writes installations the registry counts, lists and shows with their history', async () => {
    expect(summary).toMatchObject({ installations: INSTALLATIONS, active: 2_100, removed: 900, events: 9_000 });
    const stats = await api<{ installations: { active: number; removed: number } }>('/v1/stats');
    expect(stats.installations).toEqual({ active: 2_100, removed: 900 });

    const sample = summary.sample[1]!;
    const shown = await api<{ installation: { instanceId: string; installedAt: string }; events: { eventType: string }[] }>(
      `/v1/installations/${sample.instanceId}`,
    );
    expect(shown.installation.instanceId).toBe(sample.instanceId);
    expect(Date.parse(shown.installation.installedAt)).toBe(sample.installedAt);
    expect(shown.events[0]!.eventType).toBe('AppInstalled');
  });

  it('finds every match of each search term the summary names, and a term can be rare or common', async () => {
    const matches = new Map(summary.searchTerms.map((t) => [t.q, t.matches]));
    expect(Math.max(...matches.values())).toBeGreaterThan(INSTALLATIONS / 10);
    expect(Math.min(...matches.values())).toBeLessThanOrEqual(1);
    for (const term of summary.searchTerms) {
      let found = 0;
      let cursor: string | null = null;
      do {
        const page: { items: unknown[]; nextCursor: string | null } = await api(
          `/v1/installations?q=${encodeURIComponent(term.q)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        found += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
      expect(found, `q=${term.q}`).toBe(term.matches);
    }
  });

  it('leaves the database as the registry keeps it: a webhook after the seeding is stored and found by search', async () => {
    const item = { instanceId: randomUUID(), userId: randomUUID(), accountId: randomUUID(), siteId: randomUUID() };
    const jwt = signWixWebhook(createPrivateKey(key.privateKeyPem), appInstalledWebhook(APP_ID, item, Math.floor(Date.now() / 1000)), 'bench');
    const res = await fetch(`${registry.url}/webhooks/wix`, { method: 'POST', body: jwt });
    expect(res.status).toBe(200);
    const stats = await api<{ installations: { active: number } }>('/v1/stats');
    expect(stats.installations.active).toBe(summary.active + 1);
    const found = await api<{ items: { instanceId: string }[] }>(`/v1/installations?q=${item.instanceId.slice(0, 13)}`);
    expect(found.items.map((i) => i.instanceId)).toEqual([item.instanceId]);
  });

  it('gives daily stats that count the generated installs, removals, churn and active installations', async () => {
    const from = SEED_EPOCH_MS - 366 * DAY_MS;
    const to = SEED_EPOCH_MS;
    const inWindow = (at: number) => at >= from && at < to;
    const expected = { installs: 0, removals: 0, removedWithin30Days: 0, activeAtEnd: 0 };
    for (const row of generateInstallations(INSTALLATIONS).rows) {
      if (inWindow(row.installedAt)) expected.installs++;
      if (row.removedAt !== null && inWindow(row.removedAt)) expected.removals++;
      if (inWindow(row.installedAt) && row.removedAt !== null && row.removedAt - row.installedAt < 30 * DAY_MS) expected.removedWithin30Days++;
      if (row.installedAt < to && (row.removedAt === null || row.removedAt >= to)) expected.activeAtEnd++;
    }
    const day = (at: number) => new Date(at).toISOString().slice(0, 10);
    const stats = await api<{ days: { installs: number; removals: number; active: number }[]; churn: { installs: number; removedWithin30Days: number } }>(
      `/v1/stats/daily?from=${day(from)}&to=${day(to)}`,
    );
    expect(stats.days).toHaveLength(366);
    expect(stats.churn.installs).toBe(expected.installs);
    expect(stats.days.reduce((n, d) => n + d.installs, 0)).toBe(expected.installs);
    expect(stats.days.reduce((n, d) => n + d.removals, 0)).toBe(expected.removals);
    expect(stats.churn.removedWithin30Days).toBe(expected.removedWithin30Days);
    expect(stats.days.at(-1)!.active).toBe(expected.activeAtEnd);
    expect(expected.installs).toBeGreaterThan(INSTALLATIONS / 3);
    expect(expected.removedWithin30Days).toBeGreaterThan(0);
  });
});
