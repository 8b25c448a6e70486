import { describe, expect, it } from 'vitest';
import { isOriginRef, provenanceLine, provenanceOf } from '../../src/domain/provenance.js';
import { DEFAULT_SECRET_POLICY, SecretGuard } from '../../src/firewall/secret-guard.js';

describe('origin references', () => {
  it('are URLs of any scheme or tool names, one line, bounded', () => {
    for (const ok of ['https://example.com/a?b=c#d', 'file:///tmp/notes.txt', 'mcp://github/search', 'github.search_issues', 'mcp__fetch__get', 'slack:general', 'tool@2.1']) expect(isOriginRef(ok), ok).toBe(true);
    for (const bad of ['', 'two words', 'https://exa mple.com', 'tool\nname', '-leading-dash', `https://example.com/${'a'.repeat(500)}`, 'a'.repeat(129), 'https://', 'http://[::1']) expect(isOriginRef(bad), bad).toBe(false);
  });

  it('lose the values of URL parameters named for a credential, and only those', async () => {
    const guard = new SecretGuard(DEFAULT_SECRET_POLICY, 'default');
    expect(await guard.reference('origin_ref', 'https://files.example.com/a.zip?X-Amz-Signature=abcdef0123&size=big&author=kim&design=flat'))
      .toBe('https://files.example.com/a.zip?X-Amz-Signature=[redacted: url-credential]&size=big&author=kim&design=flat');
    expect(await guard.reference('origin_ref', 'https://example.com/cb?code=4/0AX4&state=xyz;session_id=77aa')).toBe('https://example.com/cb?code=[redacted: url-credential]&state=xyz;session_id=[redacted: url-credential]');
    expect(await guard.reference('origin_ref', 'github.search_issues')).toBe('github.search_issues');
    expect(guard.redacted).toEqual([
      { field: 'origin_ref', kinds: ['url-credential'] },
      { field: 'origin_ref', kinds: ['url-credential'] },
    ]);
    const allowing = new SecretGuard({ action: 'allow', byNamespace: new Map() }, 'default');
    expect(await allowing.reference('origin_ref', 'https://example.com/?token=abc')).toBe('https://example.com/?token=abc');
  });
});

describe('provenance as stored', () => {
  it('reads unknown or missing values as not recorded, and says so in one line', () => {
    expect(provenanceOf({})).toEqual({ origin: null, origin_ref: null, written_by: null });
    expect(provenanceOf({ origin: 'rumour', origin_ref: 3, written_by: null })).toEqual({ origin: null, origin_ref: null, written_by: null });
    expect(provenanceLine({ origin: null, origin_ref: null, written_by: null })).toBe('from: not recorded');
    expect(provenanceLine({ origin: 'web', origin_ref: 'https://example.com', written_by: 'key_1' })).toBe('from: web (https://example.com), written by key_1');
    expect(provenanceLine({ origin: 'agent', origin_ref: null, written_by: null })).toBe('from: agent');
  });
});
