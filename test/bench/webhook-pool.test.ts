import { createPrivateKey } from 'node:crypto';
import { importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signWixWebhook } from '../../src/sandbox/webhook-signer.ts';
import { appInstalledWebhook, generateSigningKey, signAppInstalledPool } from '../../bench/lib/webhooks.ts';

describe('bench webhook pool', () => {
  it('signs on worker threads with the sandbox signer: byte for byte what signWixWebhook gives, valid under jose', async () => {
    const key = generateSigningKey();
    const appId = '0b6f7f0e-5b8e-4c1e-9b1a-3f2d6c7e8a90';
    const iat = 1_790_000_000;
    const pool = await signAppInstalledPool(key, appId, 5, iat);
    expect(pool).toHaveLength(5);
    expect(new Set(pool.map((d) => d.instanceId)).size).toBe(5);

    const publicKey = await importSPKI(key.publicKeyPem, 'RS256');
    const privateKey = createPrivateKey(key.privateKeyPem);
    for (const delivery of pool) {
      const { payload, protectedHeader } = await jwtVerify(delivery.jwt, publicKey, { currentDate: new Date(iat * 1000) });
      expect(protectedHeader.alg).toBe('RS256');
      const layerA = JSON.parse(payload.data as string) as {
        eventType: string;
        instanceId: string;
        identity: string;
        accountInfo: Record<string, string>;
      };
      expect(layerA).toMatchObject({ eventType: 'AppInstalled', instanceId: delivery.instanceId });
      const item = {
        instanceId: layerA.instanceId,
        userId: (JSON.parse(layerA.identity) as { wixUserId: string }).wixUserId,
        accountId: layerA.accountInfo.accountId!,
        siteId: layerA.accountInfo.siteId!,
      };
      // RS256 (PKCS#1 v1.5) is deterministic: the same input signed in this thread is the same token.
      expect(signWixWebhook(privateKey, appInstalledWebhook(appId, item, iat), 'bench')).toBe(delivery.jwt);
    }
  });
});
