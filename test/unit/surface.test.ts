import { describe, expect, it } from 'vitest';
import { clip, oneLine } from '../../src/surface/render.js';
import { ClientNotices } from '../../src/surface/notices.js';
import { decodeCursor, encodeCursor } from '../../src/surface/resources.js';
import { parseResourceUri } from '../../src/tools/resource-uris.js';
import { wantsNotifications } from '../../src/transports/http/shared-streamable.js';

describe('resource URIs and cursors', () => {
  it('parses exactly the URIs the server serves', () => {
    expect(parseResourceUri('pinak://goals/active')).toEqual({ kind: 'active-goals' });
    expect(parseResourceUri('pinak://recent')).toEqual({ kind: 'recent' });
    expect(parseResourceUri('pinak://stats')).toEqual({ kind: 'stats' });
    expect(parseResourceUri('pinak://goal/01JD3Z6Q6H8W1V8N2X4C5B7E9F')).toEqual({ kind: 'goal', id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' });
    expect(parseResourceUri('pinak://memory/abc_1-2')).toEqual({ kind: 'memory', id: 'abc_1-2' });
    for (const bad of ['pinak://memory/', 'pinak://memory/a/b', 'pinak://memory/a?b', 'PINAK://recent', 'pinak://recent/', 'pinak://goal/../x', `pinak://memory/${'a'.repeat(65)}`, 'file:///etc/passwd']) {
      expect(parseResourceUri(bad), bad).toBeNull();
    }
  });

  it('a cursor round-trips, and anything else is an invalid-params error', () => {
    const place = { s: 2, i: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' };
    expect(decodeCursor(encodeCursor(place))).toEqual(place);
    const invalid = (cursor: string) => {
      try {
        decodeCursor(cursor);
      } catch (error) {
        return (error as { code: number }).code;
      }
      return null;
    };
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of ['', 'not a cursor', '%%%', b64({ v: 2, s: 1, i: 'x' }), b64({ v: 1, s: 3, i: 'x' }), b64({ v: 1, s: 1.5, i: 'x' }), b64({ v: 1, s: 1, i: 'a/b' }), b64([1]), b64(null), 'a'.repeat(300)]) {
      expect(invalid(cursor), cursor).toBe(-32602);
    }
  });
});

describe('bounded text', () => {
  it('clip says how much it kept and where the rest is; oneLine flattens and shortens', () => {
    expect(clip('short', 10, 'x')).toBe('short');
    expect(clip('a'.repeat(1500), 1000, 'call get_memory')).toBe(`${'a'.repeat(1000)}\n… (trimmed: 1,000 of 1,500 characters shown; call get_memory)`);
    expect(oneLine('a\n\n b\tc ', 10)).toBe('a b c');
    expect(oneLine('abcdefghijk', 5)).toBe('abcd…');
  });
});

describe('client notices', () => {
  it('keeps standing notices by kind, tells listeners until they leave', () => {
    const notices = new ClientNotices();
    const heard: string[] = [];
    const leave = notices.subscribe((n) => heard.push(n.message));
    notices.publish({ level: 'warning', kind: 'k', message: 'one' }, { standing: true });
    notices.publish({ level: 'warning', kind: 'k', message: 'two' }, { standing: true });
    notices.publish({ level: 'info', kind: 'passing', message: 'three' }, { standing: false });
    expect(notices.current().map((n) => n.message)).toEqual(['two']);
    leave();
    notices.publish({ level: 'error', kind: 'other', message: 'four' }, { standing: true });
    expect(heard).toEqual(['one', 'two', 'three']);
    expect(notices.listening).toBe(0);
    notices.clear('k');
    expect(notices.current().map((n) => n.message)).toEqual(['four']);
  });
});

describe('which POSTs of a shared session are answered as a stream', () => {
  it('a request with a progress token, or logging/setLevel; not notifications or plain requests', () => {
    const call = (meta?: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'remember', arguments: {}, ...(meta === undefined ? {} : { _meta: meta }) } });
    expect(wantsNotifications(call({ progressToken: 'p' }))).toBe(true);
    expect(wantsNotifications(call({ progressToken: 0 }))).toBe(true);
    expect(wantsNotifications([call(), call({ progressToken: 7 })])).toBe(true);
    expect(wantsNotifications({ jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'info' } })).toBe(true);
    expect(wantsNotifications(call())).toBe(false);
    expect(wantsNotifications(call({}))).toBe(false);
    expect(wantsNotifications({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBe(false);
    expect(wantsNotifications([null, 3, 'x'])).toBe(false);
  });
});
