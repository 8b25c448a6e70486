import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint } from '../../src/audit/audit-trail.js';

describe('audit fingerprints', () => {
  it('hash equal arguments equally whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(fingerprint({ a: 1, b: 2 }).sha256).toBe(fingerprint({ b: 2, a: 1 }).sha256);
    expect(fingerprint({ a: 1 }).sha256).not.toBe(fingerprint({ a: 2 }).sha256);
  });

  it('measures the size in UTF-8 bytes', () => {
    expect(fingerprint({ t: 'é' }).bytes).toBe(Buffer.byteLength('{"t":"é"}'));
  });
});
