import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config.ts';
import { loadSandboxCredentials, sandboxCredentialsExist, sandboxDirFor } from '../sandbox/credentials.ts';
import { sampleEventData, signWixWebhook } from '../sandbox/webhook-signer.ts';
import { withStore } from './context.ts';
import { wixForCli } from './wix-context.ts';

/** Changes only on the sandbox's fake Wix, with no webhook: for watching `reconcile` repair them. */
const SILENT_EVENTS = ['site-changed'];

/** Tells the sandbox's fake Wix what happened on "Wix's side" (src/sandbox/fake-wix.ts, /_sandbox/…). */
async function tellFakeWix(config: ReturnType<typeof loadConfig>, path: string, body?: unknown): Promise<void> {
  const wix = wixForCli(config);
  if (!wix.sandbox) throw new Error('only the sandbox fake Wix can be told what happened on its side');
  const response = await fetch(`${wix.wixApiBaseUrl}/_sandbox/instances/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`the fake Wix answered ${response.status}`);
}

/** `simulate <name>` names, like `stripe trigger`: kebab-case for Wix's event types. */
export const SIMULATED_EVENTS: Record<string, string> = {
  installed: 'AppInstalled',
  removed: 'AppRemoved',
  'paid-plan-purchased': 'PaidPlanPurchased',
  'paid-plan-changed': 'PaidPlanChanged',
  'paid-plan-auto-renewal-cancelled': 'PaidPlanAutoRenewalCancelled',
  'plan-converted-to-paid': 'PlanConvertedToPaid',
  'plan-reactivated': 'PlanReactivated',
  'plan-transferred': 'PlanTransferred',
};

export function registerSimulate(program: Command) {
  program
    .command('simulate <event>')
    .description(
      `sign a realistic Wix webhook with the sandbox key and post it (${Object.keys(SIMULATED_EVENTS).join(', ')}, or any Wix eventType); site-changed and --silently change the fake Wix only`,
    )
    .option('--instance <id>', 'instance id (default: new for installed, else the newest active installation)')
    .option('--url <url>', 'webhook URL (default: http://127.0.0.1:$PORT/webhooks/wix)')
    .option('--iat <seconds>', 'issued-at, epoch seconds (to send events out of order)', (v) => Number.parseInt(v, 10))
    .option('--silently', "removed/installed: change it on the sandbox's fake Wix only, and send no webhook (as when a webhook is lost)")
    .option('--site-name <name>', 'site-changed: the new site name')
    .action(async (name: string, opts: { instance?: string; url?: string; iat?: number; silently?: boolean; siteName?: string }) => {
      const config = loadConfig();
      if (opts.silently || SILENT_EVENTS.includes(name)) {
        if (opts.silently && name !== 'removed' && name !== 'installed') {
          console.error('--silently works with removed and installed');
          process.exit(1);
        }
        const instanceId = opts.instance ?? (await withStore(({ store }) => store.installations.newestActive()));
        if (!instanceId) {
          console.error('no active installation to use: pass --instance <id>');
          process.exit(1);
        }
        if (name === 'site-changed') {
          const siteName = opts.siteName ?? `Renamed Site ${new Date().toISOString().slice(11, 19)}`;
          await tellFakeWix(config, `${encodeURIComponent(instanceId)}/site`, { siteName });
          console.log(
            `site of instance ${instanceId} is now "${siteName}" on the fake Wix; no webhook was sent. \`wix-registry reconcile\` picks it up.`,
          );
        } else {
          await tellFakeWix(config, `${encodeURIComponent(instanceId)}/${name}`);
          console.log(
            `instance ${instanceId} is now ${name} on the fake Wix; no webhook was sent. \`wix-registry reconcile\` repairs the registry.`,
          );
        }
        return;
      }
      const dir = sandboxDirFor(config.databasePath);
      if (config.mode !== 'sandbox' && !sandboxCredentialsExist(dir)) {
        console.error('simulate signs with the sandbox key, and Wix credentials are configured: the registry would refuse it.');
        process.exit(1);
      }
      const { credentials } = loadSandboxCredentials(dir);
      const eventType = SIMULATED_EVENTS[name] ?? name;
      const instanceId =
        opts.instance ?? (eventType === 'AppInstalled' ? randomUUID() : await withStore(({ store }) => store.installations.newestActive()));
      if (!instanceId) {
        console.error('no active installation to use: pass --instance <id>, or simulate installed first');
        process.exit(1);
      }
      const jwt = signWixWebhook(credentials.privateKey, {
        eventType,
        instanceId,
        data: sampleEventData(eventType, credentials.appId),
        identity: { identityType: 'WIX_USER', wixUserId: randomUUID() },
        accountInfo: { accountId: randomUUID(), siteId: `site-${instanceId}` },
        ...(opts.iat !== undefined ? { iat: opts.iat } : {}),
      });
      const url = opts.url ?? `http://127.0.0.1:${config.port}/webhooks/wix`;
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: jwt });
      } catch (err) {
        console.error(`could not reach ${url}: ${(err as Error).message}. Is the registry running (npm start)?`);
        process.exit(1);
      }
      const body = await response.text();
      console.log(`${eventType} for instance ${instanceId} → ${response.status} ${body}`);
      if (!response.ok) process.exitCode = 1;
      // Real Wix stops (or resumes) issuing tokens with the removal (or reinstall): so does the fake, when it runs here.
      if (response.ok && (eventType === 'AppRemoved' || eventType === 'AppInstalled') && opts.iat === undefined) {
        await tellFakeWix(config, `${encodeURIComponent(instanceId)}/${eventType === 'AppRemoved' ? 'removed' : 'installed'}`).catch(
          () => undefined,
        );
      }
    });
}
