/**
 * The bench's seeded database must be one the registry really serves: each engine's test
 * (seed-sqlite.test.ts, seed-postgres.test.ts) seeds a small one with its seeder and asks a real
 * `wix-registry serve` process about it with the questions below. When a schema changes and its
 * seeder is not adapted, this turns red. Not a test file itself.
 */
import { createPrivateKey, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInstallations, SEED_EPOCH_MS, type SeedSummary } from '../../bench/lib/seed-data.ts';
import type { SeedInstallation } from '../../bench/lib/seed-data.ts';
import { appInstalledWebhook, generateSigningKey, type SigningKey } from '../../bench/lib/webhooks.ts';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { liveRegistryEnv, spawnRegistry, type ServerProcess } from '../helpers/process.ts';

const INSTALLATIONS = 3_000;
const API_KEY = 'bench-seed-test-key-0123456789';
const APP_ID = '7f1b3c2e-0d4a-4e5b-9c6d-8e7f6a5b4c3d';
const DAY_MS = 86_400_000;

/** A seeded database of one engine: its DATABASE_URL, and how to get rid of it. */
export interface SeededForTest {
  url: string;
  drop(): Promise<void>;
}

export function describeSeededDatabase(
  name: string,
  seed: (rows: Iterable<SeedInstallation>) => Promise<SeededForTest>,
  /** `describe`, or a guard of it (describe.skip where the engine is missing). */
  describeIt: (name: string, body: () => void) => void = describe,
) {
  describeIt(name, () => {
    let seeded: SeededForTest;
    let summary: SeedSummary;
    let registry: ServerProcess;
    let key: SigningKey;

    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${registry.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
      return (await res.json()) as T;
    };

    beforeAll(async () => {
      const generated = generateInstallations(INSTALLATIONS);
      seeded = await seed(generated.rows);
      summary = generated.summary;
      key = generateSigningKey();
      registry = await spawnRegistry(
        liveRegistryEnv({
          appId: APP_ID,
          appSecret: 'bench-seed-test-secret',
          publicKeyPem: key.publicKeyPem,
          wixUrl: 'http://127.0.0.1:9',
          databasePath: seeded.url,
          overrides: { REGISTRY_API_KEYS: API_KEY, LOG_LEVEL: 'info' },
        }),
      );
    }, 120_000);

    afterAll(async () => {
      registry?.child.kill('SIGTERM');
      await registry?.exited;
      await seeded?.drop();
    });

    describe('the bench seeder', () => {
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
        const jwt = signWixWebhook(
          createPrivateKey(key.privateKeyPem),
          appInstalledWebhook(APP_ID, item, Math.floor(Date.now() / 1000)),
          'bench',
        );
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
          if (inWindow(row.installedAt) && row.removedAt !== null && row.removedAt - row.installedAt < 30 * DAY_MS)
            expected.removedWithin30Days++;
          if (row.installedAt < to && (row.removedAt === null || row.removedAt >= to)) expected.activeAtEnd++;
        }
        const day = (at: number) => new Date(at).toISOString().slice(0, 10);
        const stats = await api<{
          days: { installs: number; removals: number; active: number }[];
          churn: { installs: number; removedWithin30Days: number };
        }>(`/v1/stats/daily?from=${day(from)}&to=${day(to)}`);
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
  });
}
