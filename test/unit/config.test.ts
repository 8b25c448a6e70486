import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, defaultDataDir, jwtOptions, resolveConfig } from '../../src/config.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
/** Write each file into a fresh temp dir; returns their paths. */
function files(contents: Record<string, string>): Record<string, string> {
  const { dir, cleanup } = makeTempDir('pinak-config-');
  cleanups.push(cleanup);
  return Object.fromEntries(Object.entries(contents).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return [name, path];
  }));
}

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

  it('reads any setting from the file named by PINAK_<NAME>_FILE (Docker and Kubernetes secrets), without its trailing line break', () => {
    const f = files({ ns: 'ns-from-file\n', aud: 'pinak-memory\r\n', iss: 'https://idp.example.test/', bytes: '2048' });
    const config = resolveConfig({}, {
      PINAK_NAMESPACE_FILE: f.ns,
      PINAK_MAX_CONTENT_BYTES_FILE: f.bytes,
      PINAK_JWT_ISSUER_FILE: f.iss,
      PINAK_JWT_AUDIENCE_FILE: f.aud,
      // A setting that is a file path already is taken as is.
      PINAK_JWT_JWKS_FILE: '/etc/pinak/jwks.json',
    });
    expect(config).toMatchObject({ namespace: 'ns-from-file', maxContentBytes: 2048, jwtAudience: 'pinak-memory', jwtJwksFile: '/etc/pinak/jwks.json' });
    expect(jwtOptions(config)).toEqual({ issuer: 'https://idp.example.test/', audience: 'pinak-memory', jwks: { file: '/etc/pinak/jwks.json' }, claims: { tenant: 'tenant', role: 'role', namespaces: null }, allowLocalTenant: false });
    // Only one line break goes; a flag still wins over the file.
    expect(resolveConfig({}, { PINAK_EMBED_MODEL_FILE: files({ a: 'two\n\n' }).a! }).embedModel).toBe('two\n');
    expect(resolveConfig({ namespace: 'from-flag' }, { PINAK_NAMESPACE_FILE: f.ns }).namespace).toBe('from-flag');
    // An empty variable is no variable.
    expect(resolveConfig({}, { PINAK_NAMESPACE: '', PINAK_NAMESPACE_FILE: f.ns }).namespace).toBe('ns-from-file');
  });

  it('says in one line why a setting file cannot be used, never echoing what it holds', () => {
    const f = files({ secret: 'hunter2-not-a-number\n', empty: '', ns: 'x' });
    const dir = join(f.ns!, '..', 'sub');
    mkdirSync(dir);
    const refused: Array<[Record<string, string>, RegExp]> = [
      [{ PINAK_NAMESPACE_FILE: join(dir, 'missing') }, /^cannot read PINAK_NAMESPACE_FILE \(.*missing\): ENOENT$/],
      [{ PINAK_NAMESPACE_FILE: dir }, /^cannot read PINAK_NAMESPACE_FILE \(.*sub\): not a regular file$/],
      [{ PINAK_NAMESPACE_FILE: f.empty! }, /^PINAK_NAMESPACE_FILE names an empty file/],
      [{ PINAK_NAMESPACE: 'a', PINAK_NAMESPACE_FILE: f.ns! }, /^set PINAK_NAMESPACE or PINAK_NAMESPACE_FILE, not both$/],
      [{ PINAK_MAX_CONTENT_BYTES_FILE: f.secret! }, /^invalid value from the file named by PINAK_MAX_CONTENT_BYTES_FILE: /],
    ];
    for (const [env, message] of refused) {
      let error: unknown;
      try {
        resolveConfig({}, env);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toMatch(/hunter2|\n/);
    }
  });

  it('needs an issuer, an audience and one JWKS for bearer tokens', () => {
    const jwt = { 'jwt-issuer': 'https://idp.example.test/', 'jwt-audience': 'pinak' };
    expect(jwtOptions(resolveConfig({}, {}))).toBeNull();
    expect(jwtOptions(resolveConfig({ ...jwt, 'jwt-jwks-url': 'https://idp.example.test/jwks', 'jwt-role-claim': 'roles' }, {}))).toMatchObject({ jwks: { url: 'https://idp.example.test/jwks' }, claims: { role: 'roles' } });
    expect(resolveConfig({ ...jwt, 'jwt-jwks-url': 'http://127.0.0.1:9/jwks' }, {}).jwtJwksUrl).toBe('http://127.0.0.1:9/jwks');
    expect(() => resolveConfig(jwt, {})).toThrow(/set --jwt-jwks-file or --jwt-jwks-url$/);
    expect(() => resolveConfig({ 'jwt-jwks-file': 'j.json', 'jwt-issuer': 'x' }, {})).toThrow(/need --jwt-issuer and --jwt-audience/);
    expect(() => resolveConfig({ ...jwt, 'jwt-jwks-file': 'j.json', 'jwt-jwks-url': 'https://a.test/' }, {})).toThrow(/not both/);
    expect(() => resolveConfig({ ...jwt, 'jwt-jwks-url': 'ftp://a.test/' }, {})).toThrow(/--jwt-jwks-url .*https:\/\//);
  });
});
