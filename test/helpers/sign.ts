import { SignJWT, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, type CryptoKey } from 'jose';

/**
 * Signs Wix-shaped webhooks with jose: an implementation independent of the registry's
 * node:crypto verifier and of the sandbox signer, so a bug shared by both cannot hide.
 */
export interface TestSigner {
  privateKey: CryptoKey;
  publicKeyPem: string;
  sign(webhook: TestWebhook, options?: { alg?: 'RS256' | 'RS512'; exp?: number | null; nbf?: number }): Promise<string>;
}

export interface TestWebhook {
  eventType: string;
  instanceId: string;
  data?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  accountInfo?: Record<string, unknown>;
  /** Epoch seconds. */
  iat: number;
}

export async function createTestSigner(): Promise<TestSigner> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const publicKeyPem = await exportSPKI(publicKey);
  // WebCrypto keys are bound to one algorithm: the same RSA key, imported again for RS512.
  const rs512Key = await importPKCS8(await exportPKCS8(privateKey), 'RS512');
  const signer: TestSigner = {
    privateKey,
    publicKeyPem,
    async sign(webhook, options = {}) {
      const alg = options.alg ?? 'RS256';
      const layerA: Record<string, unknown> = {
        data: JSON.stringify(webhook.data ?? {}),
        instanceId: webhook.instanceId,
        eventType: webhook.eventType,
      };
      if (webhook.identity) layerA.identity = JSON.stringify(webhook.identity);
      if (webhook.accountInfo) layerA.accountInfo = webhook.accountInfo;
      const jwt = new SignJWT({ data: JSON.stringify(layerA) }).setProtectedHeader({ alg, kid: 'test' }).setIssuedAt(webhook.iat);
      if (options.exp !== null) jwt.setExpirationTime(options.exp ?? webhook.iat + 3_600_000);
      if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
      return jwt.sign(alg === 'RS512' ? rs512Key : privateKey);
    },
  };
  return signer;
}

/** Builds a token from raw parts, for cases no real signer would produce (alg none, HS256…). */
export function rawJwt(header: object, claims: object, signature = ''): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64(header)}.${b64(claims)}.${signature}`;
}
