import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, keyedFingerprinter } from '../../src/audit/fingerprint.js';

const fingerprint = keyedFingerprinter(randomBytes(32));

describe('audit fingerprints', () => {
  it('hash equal arguments equally whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(fingerprint({ a: 1, b: 2 }).sha256).toBe(fingerprint({ b: 2, a: 1 }).sha256);
    expect(fingerprint({ a: 1 }).sha256).not.toBe(fingerprint({ a: 2 }).sha256);
  });

  it('measures the size in UTF-8 bytes', () => {
    expect(fingerprint({ t: 'é' }).bytes).toBe(Buffer.byteLength('{"t":"é"}'));
  });

  it('are an HMAC-SHA256 of the canonical form under the secret, not its plain SHA-256 (kept only as unkeyed)', () => {
    const secret = randomBytes(32);
    const args = { content: 'door code is 4821' };
    const text = canonicalJson(args);
    const keyed = keyedFingerprinter(secret)(args);
    expect(keyed.sha256).toBe(createHmac('sha256', secret).update(text).digest('hex'));
    expect(keyed.unkeyed()).toBe(createHash('sha256').update(text).digest('hex'));
    expect(keyed.sha256).not.toBe(keyed.unkeyed());
    expect(keyedFingerprinter(randomBytes(32))(args).sha256).not.toBe(keyed.sha256);
  });
});
