import { createPublicKey, type KeyObject } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

/**
 * Parses WIX_PUBLIC_KEY into RSA public keys, once, at start-up. Accepts what app teams actually
 * paste: PEM with real newlines, PEM with literal "\n" (common in .env files, where the SDK's own
 * parser fails), base64 of the PEM (the SDK's other form), and several PEM blocks in one value
 * (key rotation: every key is tried in turn).
 */
export function parsePublicKeys(value: string): KeyObject[] {
  let text = value.trim().replace(/\\r/g, '').replace(/\\n/g, '\n');
  if (!text.includes('-----BEGIN')) {
    const decoded = Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (!decoded.includes('-----BEGIN')) {
      throw new Error('is neither PEM nor base64 of a PEM');
    }
    text = decoded;
  }
  const blocks = text.match(PEM_BLOCK);
  if (!blocks || blocks.length === 0) throw new Error('contains no complete PEM block');
  return blocks.map((pem, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new Error(`PEM block ${i + 1} is not a valid public key`);
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new Error(`PEM block ${i + 1} is a ${key.asymmetricKeyType ?? 'non-RSA'} key; Wix signs webhooks with RSA (RS256)`);
    }
    return key;
  });
}
