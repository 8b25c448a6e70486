import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, query, trusted, visible } from '../../src/ui/html.js';
import { UiSessions, sameSecret } from '../../src/ui/sessions.js';

describe('the memory browser\'s HTML template', () => {
  it('escapes every interpolated value, in text and attributes, unless it is markup of ours', () => {
    const hostile = '<script>alert(1)</script>"\'`&';
    expect(html`<p title="${hostile}">${hostile}</p>`.text).toBe('<p title="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;</p>');
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.text).toBe('<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.text).toBe('0');
    expect(html`${trusted('<br>')}`.text).toBe('<br>');
  });

  it('never lets any string open a tag or leave a quoted attribute', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => {
      const escaped = escapeHtml(text);
      expect(escaped).not.toMatch(/[<>"'`]/);
      expect(html`<a title="${text}">${text}</a>`.text).toBe(`<a title="${escaped}">${escaped}</a>`);
      // And it is a faithful encoding: decoding gives the text back.
      expect(escaped.replace(/&(lt|gt|quot|#39|#96|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`', amp: '&' })[e]!)).toBe(text);
    }));
  });

  it('shows invisible and direction-changing characters as code points, keeping tabs and newlines', () => {
    expect(visible('a\u202Eb\u2066c\u200Bd\te\nf\u0007').text).toBe(
      '<bdi>a<span class="cp" title="an invisible character">U+202E</span>b<span class="cp" title="an invisible character">U+2066</span>c<span class="cp" title="an invisible character">U+200B</span>d\te\nf<span class="cp" title="an invisible character">U+0007</span></bdi>',
    );
    expect(visible('<b>').text).toBe('<bdi>&lt;b&gt;</bdi>');
  });

  it('builds query strings from named values only, encoded', () => {
    expect(query({ q: 'a&b=c', empty: '', none: undefined, before: 7 })).toBe('?q=a%26b%3Dc&before=7');
    expect(query({})).toBe('');
  });
});

describe('browser sessions', () => {
  it('expire when idle, are bounded (anonymous ones dropped first), and rotate their id and token on sign-in', () => {
    let now = 0;
    const sessions = new UiSessions(1000, 3, () => now);
    const anonymous = sessions.create();
    const signedIn = sessions.signIn(sessions.create(), { kind: 'bearer', value: 'pk_x' });
    expect(sessions.get(signedIn.id)).toBe(signedIn);
    const planted = sessions.create();
    const rotated = sessions.signIn(planted, { kind: 'local' });
    expect(rotated.id).not.toBe(planted.id);
    expect(rotated.csrf).not.toBe(planted.csrf);
    expect(sessions.get(planted.id)).toBeNull();
    sessions.create();
    sessions.create();
    expect(sessions.size).toBe(3);
    expect(sessions.get(anonymous.id)).toBeNull();
    expect(sessions.get(signedIn.id)).toBe(signedIn);
    now = 1001;
    expect(sessions.get(signedIn.id)).toBeNull();
    expect(sessions.get(undefined)).toBeNull();
    expect(sessions.get('x'.repeat(200))).toBeNull();
  });

  it('one-time local tokens work once, and not after they expire', () => {
    let now = 0;
    const sessions = new UiSessions(1000, 10, () => now);
    const token = sessions.issueLocalToken(500);
    expect(sessions.spendLocalToken('guess')).toBe(false);
    expect(sessions.spendLocalToken(token)).toBe(true);
    expect(sessions.spendLocalToken(token)).toBe(false);
    const late = sessions.issueLocalToken(500);
    now = 501;
    expect(sessions.spendLocalToken(late)).toBe(false);
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });
});
