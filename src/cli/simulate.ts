import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config.ts';
import { loadSandboxCredentials, sandboxCredentialsExist, sandboxDirFor } from '../sandbox/credentials.ts';
import { sampleEventData, signWixWebhook } from '../sandbox/webhook-signer.ts';
import { withStore } from './context.ts';

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
    .description(`sign a realistic Wix webhook with the sandbox key and post it (${Object.keys(SIMULATED_EVENTS).join(', ')}, or any Wix eventType)`)
    .option('--instance <id>', 'instance id (default: new for installed, else the newest active installation)')
    .option('--url <url>', 'webhook URL (default: http://127.0.0.1:$PORT/webhooks/wix)')
    .option('--iat <seconds>', 'issued-at, epoch seconds (to send events out of order)', (v) => Number.parseInt(v, 10))
    .action(async (name: string, opts: { instance?: string; url?: string; iat?: number }) => {
      const config = loadConfig();
      const dir = sandboxDirFor(config.databasePath);
      if (config.mode !== 'sandbox' && !sandboxCredentialsExist(dir)) {
        console.error('simulate signs with the sandbox key, and Wix credentials are configured: the registry would refuse it.');
        process.exit(1);
      }
      const { credentials } = loadSandboxCredentials(dir);
      const eventType = SIMULATED_EVENTS[name] ?? name;
      const instanceId = opts.instance ?? (eventType === 'AppInstalled' ? randomUUID() : await withStore(({ store }) => store.installations.newestActive()));
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
    });
}
