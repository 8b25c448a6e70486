import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultDataDir, resolveConfig } from '../../src/config.js';

describe('config', () => {
  it('uses XDG_DATA_HOME, else ~/.local/share', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/data' }, '/home/u')).toBe(join('/data', 'pinak-memory'));
    expect(defaultDataDir({}, '/home/u')).toBe(join('/home/u', '.local', 'share', 'pinak-memory'));
    // A relative XDG_DATA_HOME is invalid per the spec and ignored.
    expect(defaultDataDir({ XDG_DATA_HOME: 'rel' }, '/home/u')).toBe(join('/home/u', '.local', 'share', 'pinak-memory'));
  });

  it('has working defaults', () => {
    const config = resolveConfig({}, { XDG_DATA_HOME: '/x' });
    expect(config).toMatchObject({ dataDir: '/x/pinak-memory', namespace: 'default', logLevel: 'info', maxContentBytes: 32768, maxMetadataBytes: 16384 });
  });

  it('lets the environment override defaults and flags override the environment', () => {
    const env = { PINAK_DATA_DIR: '/env', PINAK_NAMESPACE: 'env-ns', PINAK_MAX_CONTENT_BYTES: '1000' };
    expect(resolveConfig({}, env)).toMatchObject({ dataDir: '/env', namespace: 'env-ns', maxContentBytes: 1000 });
    expect(resolveConfig({ 'data-dir': '/flag', namespace: 'flag-ns' }, env)).toMatchObject({ dataDir: '/flag', namespace: 'flag-ns', maxContentBytes: 1000 });
  });

  it('names the bad setting and its origin in one line', () => {
    expect(() => resolveConfig({ 'max-content-bytes': 'lots' }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ 'max-content-bytes': 'lots' }, {})).toThrow(/flag --max-content-bytes \("lots"\)/);
    expect(() => resolveConfig({}, { PINAK_LOG_LEVEL: 'loud' })).toThrow(/environment variable PINAK_LOG_LEVEL/);
    expect(() => resolveConfig({ namespace: 'bad namespace!' }, {})).toThrow(/--namespace/);
  });
});
