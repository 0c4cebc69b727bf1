import { verify as verifySignature, type KeyObject } from 'node:crypto';

/** Leeway for exp/nbf against clock skew between Wix and this host. */
export const CLOCK_TOLERANCE_SEC = 60;

export interface VerifiedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export class VerificationError extends Error {
  override name = 'VerificationError';
}

export interface JwtVerifierOptions {
  publicKeys: readonly KeyObject[];
  /** Injected clock, epoch ms. */
  now?: () => number;
  clockToleranceSec?: number;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Real algorithm names are a few characters; the reason quotes at most this much of a bad one. */
const ALG_IN_REASON_MAX_CHARS = 32;

/**
 * Verifies a Wix webhook JWT before anything else touches it. Deliberately stricter than the
 * SDK's `webhooks.process()`: the algorithm is pinned to RS256 (the SDK accepts RS512 from the
 * same key; `none` and HS256-keyed-with-the-public-PEM are refused here by construction), and
 * keys are parsed once at start-up rather than on every call. Each configured key is tried in
 * turn, for key rotation.
 */
export function createJwtVerifier(options: JwtVerifierOptions): (token: string) => VerifiedJwt {
  const keys = [...options.publicKeys];
  const now = options.now ?? Date.now;
  const toleranceSec = options.clockToleranceSec ?? CLOCK_TOLERANCE_SEC;
  if (keys.length === 0) throw new Error('at least one public key is required');

  return (token: string): VerifiedJwt => {
    const parts = token.trim().split('.');
    if (parts.length !== 3 || parts.some((p) => p.length === 0 || !BASE64URL.test(p))) {
      throw new VerificationError('not a compact JWS');
    }
    const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
    const header = decodeJsonSegment(encodedHeader, 'header');
    if (header.alg !== 'RS256') throw new VerificationError(`alg ${describeAlg(header.alg)} is not RS256`);
    if (header.crit !== undefined) throw new VerificationError('crit header is not supported');

    const signingInput = Buffer.from(`${encodedHeader}.${encodedClaims}`, 'ascii');
    const signature = Buffer.from(encodedSignature, 'base64url');
    // Only the canonical encoding: the decoder ignores a last character's unused low bits, and a
    // copy of a token differing only there would pass as a new delivery (dedupe is by the raw JWT).
    if (signature.toString('base64url') !== encodedSignature) throw new VerificationError('signature is not canonical base64url');
    if (!keys.some((key) => verifySignature('sha256', signingInput, key, signature))) {
      throw new VerificationError('signature does not verify with any configured key');
    }

    const claims = decodeJsonSegment(encodedClaims, 'claims');
    const nowSec = now() / 1000;
    if (claims.exp !== undefined) {
      if (typeof claims.exp !== 'number') throw new VerificationError('exp is not a number');
      if (nowSec > claims.exp + toleranceSec) throw new VerificationError('token expired');
    }
    if (claims.nbf !== undefined) {
      if (typeof claims.nbf !== 'number') throw new VerificationError('nbf is not a number');
      if (nowSec < claims.nbf - toleranceSec) throw new VerificationError('token not yet valid');
    }
    return { header, claims };
  };
}

/** The refused `alg` for the refusal reason, cut short: it comes from the sender and may be 40 KB long. */
function describeAlg(alg: unknown): string {
  const text = JSON.stringify(alg) ?? String(alg);
  return text.length > ALG_IN_REASON_MAX_CHARS ? `${text.slice(0, ALG_IN_REASON_MAX_CHARS)}…` : text;
}

function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new VerificationError(`${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VerificationError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
