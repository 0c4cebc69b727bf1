import type { Command } from 'commander';
import { systemClock } from '../clock.ts';
import { SESSION_CACHE_TTL_MS } from '../dashboard/sessions.ts';
import { isoOrNull } from '../installations/time.ts';
import { printTable, shortTime, withStore } from './context.ts';

const KEY_FINGERPRINT = /^key_[0-9a-f]{12}$/;

export function registerSessions(program: Command) {
  const sessions = program.command('sessions').description('dashboard sessions: see them, end them');

  sessions
    .command('list')
    .description('open dashboard sessions, newest first, by API key fingerprint')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore(async ({ store }) => {
        const now = systemClock.now();
        const open = (await store.sessions.list())
          .filter((s) => s.expiresAt > now)
          .map((s) => ({ apiKeyId: s.apiKeyId, createdAt: isoOrNull(s.createdAt), expiresAt: isoOrNull(s.expiresAt) }));
        if (opts.json) return console.log(JSON.stringify(open, null, 2));
        printTable(
          open.map((s) => ({ key: s.apiKeyId, 'signed in': shortTime(s.createdAt), expires: shortTime(s.expiresAt) })),
          ['key', 'signed in', 'expires'],
        );
      });
    });

  sessions
    .command('revoke')
    .description('end dashboard sessions: every one (--all) or those of one API key (--key); their cookies open nothing from then on')
    .option('--all', 'every session')
    .option('--key <fingerprint>', 'the sessions of this API key (key_ and 12 hex digits, as `sessions list` shows it)')
    .action(async (opts: { all?: boolean; key?: string }) => {
      if (Boolean(opts.all) === Boolean(opts.key)) {
        console.error('pass --all, or --key <fingerprint>');
        process.exit(2);
      }
      if (opts.key && !KEY_FINGERPRINT.test(opts.key)) {
        console.error('--key: must be an API key fingerprint (key_ and 12 hex digits), never the key itself');
        process.exit(2);
      }
      await withStore(async ({ store }) => {
        const ended = await store.write({ kind: 'endSessions', filter: opts.key ? { apiKeyId: opts.key } : { all: true } });
        console.log(
          `${ended} dashboard session(s) ended. A running registry stops honouring them within ${SESSION_CACHE_TTL_MS / 1000} s ` +
            '(DELETE /v1/dashboard-sessions ends them in that process at once).',
        );
      });
    });
}
