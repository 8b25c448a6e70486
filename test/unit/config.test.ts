import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, defaultDataDir, ENVIRONMENT_VARIABLES, httpSessionsIn, jwtOptions, redactDatabaseUrl, resolveConfig, SETTINGS, workersOf } from '../../src/config.js';
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

  it('takes a replica name of lowercase letters, digits and hyphens, and refuses anything else in one line', () => {
    expect(resolveConfig({}, {}).replicaName).toBeUndefined();
    expect(resolveConfig({ 'replica-name': 'pinak2' }, {}).replicaName).toBe('pinak2');
    expect(resolveConfig({}, { PINAK_REPLICA_NAME: 'eu-west-1a' }).replicaName).toBe('eu-west-1a');
    expect(resolveConfig({ 'replica-name': 'b' }, { PINAK_REPLICA_NAME: 'a' }).replicaName).toBe('b');
    expect(resolveConfig({ 'replica-name': 'x'.repeat(32) }, {}).replicaName).toBe('x'.repeat(32));
    for (const bad of ['Pinak2', 'pinak 2', 'pinak_2', '-pinak', 'pinak&sessionId=x', 'x'.repeat(33), 'é']) {
      expect(() => resolveConfig({ 'replica-name': bad }, {}), bad).toThrow(/^invalid flag --replica-name \(.*\): expected a short name of lowercase letters, digits and hyphens/);
    }
    expect(() => resolveConfig({}, { PINAK_REPLICA_NAME: 'A' })).toThrow(/^invalid environment variable PINAK_REPLICA_NAME \("A"\)/);
  });

  it('lists every environment variable it reads: each setting\'s, and its _FILE twin unless the setting is a file path', () => {
    expect(ENVIRONMENT_VARIABLES).toEqual(expect.arrayContaining(['PINAK_DATA_DIR', 'PINAK_DATA_DIR_FILE', 'PINAK_DATABASE_URL_FILE', 'PINAK_REPLICA_NAME', 'PINAK_JWT_JWKS_FILE']));
    expect(ENVIRONMENT_VARIABLES).not.toContain('PINAK_JWT_JWKS_FILE_FILE');
    expect(ENVIRONMENT_VARIABLES).toHaveLength(SETTINGS.length * 2 - SETTINGS.filter((s) => s.env.endsWith('_FILE')).length);
    // Each one is read: a bad value in any of them is refused, naming it.
    for (const name of ENVIRONMENT_VARIABLES.filter((n) => n.endsWith('_FILE') && !SETTINGS.some((s) => s.env === n))) {
      expect(() => resolveConfig({}, { [name]: '/nonexistent/pinak-setting' }), name).toThrow(new RegExp(`cannot read ${name} `));
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

  describe('PostgreSQL', () => {
    /** The ConfigError resolveConfig throws for these settings. */
    function refusal(flags: Record<string, string>, env: Record<string, string>): ConfigError {
      try {
        resolveConfig(flags, env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toMatch(/\n/);
        return error as ConfigError;
      }
      throw new Error(`accepted ${JSON.stringify({ flags, env })}`);
    }

    it('keeps SQLite when no database URL is set, with the pool defaults', () => {
      const config = resolveConfig({}, {});
      expect(config.databaseUrl).toBeUndefined();
      expect(config).toMatchObject({
        databasePoolSize: 10,
        databaseConnectTimeoutMs: 5000,
        databaseStatementTimeoutMs: 30_000,
        databaseIdleInTransactionTimeoutMs: 60_000,
        waitForDatabaseMs: 0,
      });
    });

    it('takes the URL from --database-url or PINAK_DATABASE_URL, the flag winning', () => {
      const url = 'postgres://pinak:s3cret@db.example.test:5432/memories';
      expect(resolveConfig({}, { PINAK_DATABASE_URL: url })).toMatchObject({
        databaseUrl: url,
        databasePoolSize: 10,
        databaseConnectTimeoutMs: 5000,
        databaseStatementTimeoutMs: 30_000,
        databaseIdleInTransactionTimeoutMs: 60_000,
        waitForDatabaseMs: 0,
      });
      expect(resolveConfig({ 'database-url': 'postgresql://a@b/c' }, { PINAK_DATABASE_URL: url }).databaseUrl).toBe('postgresql://a@b/c');
      // Both spellings of the scheme, in any case, and a socket directory as a parameter.
      for (const ok of ['postgresql://localhost/db', 'POSTGRES://h/db', 'postgresql:///db?host=/run/postgresql']) {
        expect(resolveConfig({ 'database-url': ok }, {}).databaseUrl).toBe(ok);
      }
    });

    it('reads the URL from PINAK_DATABASE_URL_FILE, without its trailing line break', () => {
      const f = files({ url: 'postgres://pinak:s3cret@db.example.test/memories\n' });
      expect(resolveConfig({}, { PINAK_DATABASE_URL_FILE: f.url! }).databaseUrl).toBe('postgres://pinak:s3cret@db.example.test/memories');
    });

    it('refuses the URL and its file both set, and an unreadable file, in one line', () => {
      const f = files({ url: 'postgres://a@b/c\n' });
      expect(refusal({}, { PINAK_DATABASE_URL: 'postgres://a@b/c', PINAK_DATABASE_URL_FILE: f.url! }).message)
        .toBe('set PINAK_DATABASE_URL or PINAK_DATABASE_URL_FILE, not both');
      expect(refusal({}, { PINAK_DATABASE_URL_FILE: join(f.url!, '..', 'missing') }).message)
        .toMatch(/^cannot read PINAK_DATABASE_URL_FILE \(.*missing\): ENOENT$/);
    });

    it('refuses a URL of another scheme, naming where it came from and never showing its password', () => {
      const bad: Array<[Record<string, string>, Record<string, string>, RegExp]> = [
        [{ 'database-url': 'mysql://root:hunter2@db/x' }, {}, /^invalid flag --database-url \("mysql:\/\/root:\*\*\*@db\/x"\): expected a postgres:\/\/ or postgresql:\/\/ URL$/],
        [{}, { PINAK_DATABASE_URL: 'db.example.test:5432' }, /^invalid environment variable PINAK_DATABASE_URL \("db.example.test:5432"\): expected a postgres:\/\//],
        [{}, { PINAK_DATABASE_URL: 'host=db password=hunter2' }, /^invalid environment variable PINAK_DATABASE_URL \("host=db password=\*\*\*"\)/],
        [{}, { PINAK_DATABASE_URL_FILE: files({ u: 'http://u:hunter2@db/x\n' }).u! }, /^invalid value from the file named by PINAK_DATABASE_URL_FILE: expected a postgres:\/\//],
      ];
      for (const [flags, env, message] of bad) {
        const error = refusal(flags, env);
        expect(error.message).toMatch(message);
        expect(error.message).not.toContain('hunter2');
      }
    });

    it('takes the pool settings from flags and the environment, within their bounds', () => {
      const url = { 'database-url': 'postgres://h/db' };
      const config = resolveConfig(
        { ...url, 'database-pool-size': '3', 'wait-for-database-ms': '15000' },
        { PINAK_DATABASE_CONNECT_TIMEOUT_MS: '250', PINAK_DATABASE_STATEMENT_TIMEOUT_MS: '0', PINAK_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000', PINAK_WAIT_FOR_DATABASE_MS: '1' },
      );
      expect(config).toMatchObject({
        databaseUrl: 'postgres://h/db',
        databasePoolSize: 3,
        databaseConnectTimeoutMs: 250,
        databaseStatementTimeoutMs: 0,
        databaseIdleInTransactionTimeoutMs: 1000,
        waitForDatabaseMs: 15_000,
      });
      expect(refusal({ ...url, 'database-pool-size': '0' }, {}).message).toMatch(/^invalid flag --database-pool-size \("0"\)/);
      expect(refusal({ ...url, 'database-pool-size': '1001' }, {}).message).toMatch(/--database-pool-size/);
      expect(resolveConfig({ ...url, 'database-pool-size': '1000' }, {}).databasePoolSize).toBe(1000);
      expect(refusal({ ...url }, { PINAK_DATABASE_CONNECT_TIMEOUT_MS: '0' }).message).toMatch(/PINAK_DATABASE_CONNECT_TIMEOUT_MS/);
      expect(refusal({ ...url, 'wait-for-database-ms': '-1' }, {}).message).toMatch(/--wait-for-database-ms/);
      expect(refusal({ ...url, 'database-statement-timeout-ms': 'soon' }, {}).message).toMatch(/--database-statement-timeout-ms \("soon"\)/);
    });

    it('refuses a pool setting without a database URL rather than ignoring it', () => {
      expect(refusal({ 'database-pool-size': '5' }, {}).message)
        .toBe('flag --database-pool-size is a PostgreSQL setting: set --database-url (or PINAK_DATABASE_URL) too, or leave it out to use SQLite');
      expect(refusal({}, { PINAK_WAIT_FOR_DATABASE_MS: '1000' }).message).toMatch(/^environment variable PINAK_WAIT_FOR_DATABASE_MS is a PostgreSQL setting/);
    });

    it('refuses the SQLite file\'s size limit with a database URL rather than ignoring it', () => {
      const url = { 'database-url': 'postgres://h/db' };
      expect(refusal({ ...url, 'max-database-bytes': '10000000' }, {}).message).toMatch(/^flag --max-database-bytes limits the SQLite file, not a PostgreSQL database/);
      expect(refusal({}, { PINAK_DATABASE_URL: 'postgres://h/db', PINAK_MAX_DATABASE_BYTES: '10000000', PINAK_AUDIT_RESERVE_BYTES: '300000' }).message).toMatch(/PINAK_MAX_DATABASE_BYTES limits the SQLite file/);
    });
  });

  describe('Redis', () => {
    it('takes the URL from --redis-url, PINAK_REDIS_URL or PINAK_REDIS_URL_FILE; none by default', () => {
      expect(resolveConfig({}, {}).redisUrl).toBeUndefined();
      expect(resolveConfig({}, { PINAK_REDIS_URL: 'redis://cache:6379' }).redisUrl).toBe('redis://cache:6379');
      expect(resolveConfig({ 'redis-url': 'rediss://u:p@cache.example.test:6380/2' }, { PINAK_REDIS_URL: 'redis://cache' }).redisUrl).toBe('rediss://u:p@cache.example.test:6380/2');
      const f = files({ url: 'redis://:s3cret@cache/1\n' });
      expect(resolveConfig({}, { PINAK_REDIS_URL_FILE: f.url! }).redisUrl).toBe('redis://:s3cret@cache/1');
      for (const ok of ['redis://localhost', 'redis://127.0.0.1:6379/0', 'redis://[::1]:6379', 'REDIS://h']) expect(resolveConfig({ 'redis-url': ok }, {}).redisUrl, ok).toBe(ok);
    });

    it('refuses a malformed URL in one line, naming where it came from and never showing its password', () => {
      const bad: Array<[Record<string, string>, Record<string, string>]> = [
        [{ 'redis-url': 'http://u:hunter2@cache:6379' }, {}],
        [{ 'redis-url': 'redis://:hunter2@' }, {}],
        [{ 'redis-url': 'redis://u:hunter2@cache/db' }, {}],
        [{ 'redis-url': 'redis://u:hunter2@cache:99999' }, {}],
        [{ 'redis-url': 'cache:6379' }, {}],
        [{}, { PINAK_REDIS_URL: 'redis://u:hunter2@cache/0 ' }],
      ];
      for (const [flags, env] of bad) {
        let message = '';
        try {
          resolveConfig(flags, env);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          message = (error as Error).message;
        }
        expect(message, JSON.stringify({ flags, env })).toMatch(/^invalid (flag --redis-url|environment variable PINAK_REDIS_URL) \(.*\): expected a redis:\/\/ or rediss:\/\/ URL with a host/);
        expect(message).not.toContain('hunter2');
        expect(message).not.toMatch(/\n/);
      }
      const f = files({ url: 'redis:/u:hunter2@cache\n' });
      let message = '';
      try {
        resolveConfig({}, { PINAK_REDIS_URL_FILE: f.url! });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toBe('invalid value from the file named by PINAK_REDIS_URL_FILE: expected a redis:// or rediss:// URL with a host (redis://user:password@host:6379/0)');
    });
  });

  it('hides a database URL\'s password for logs and errors', () => {
    const cases: Array<[string, string]> = [
      ['postgres://pinak:s3cret@db.example.test:5432/memories', 'postgres://pinak:***@db.example.test:5432/memories'],
      ['postgresql://pinak:p%40ss@db/x?sslmode=require', 'postgresql://pinak:***@db/x?sslmode=require'],
      // An unencoded @ in the password: the user-info ends at the last one.
      ['postgres://u:p@ss@db/x', 'postgres://u:***@db/x'],
      // An unencoded / in the password, which no parser would take, is hidden all the same.
      ['postgres://u:pa/ss@db/x', 'postgres://u:***@db/x'],
      ['postgres://u:@db/x', 'postgres://u:***@db/x'],
      ['postgres://db/x?user=u&password=s3cret&sslmode=require', 'postgres://db/x?user=u&password=***&sslmode=require'],
      ['postgres://u:a@db/x?PASSWORD=b', 'postgres://u:***@db/x?PASSWORD=***'],
      // libpq's keyword form, which the configuration refuses, is shown without its password too.
      ["host=db password='it\\'s secret' user=u", 'host=db password=*** user=u'],
      ['password=s3cret host=db', 'password=*** host=db'],
      // Nothing to hide.
      ['postgres://pinak@db/x', 'postgres://pinak@db/x'],
      ['postgres://db:5432/x', 'postgres://db:5432/x'],
      ['postgresql:///x?host=/run/postgresql', 'postgresql:///x?host=/run/postgresql'],
    ];
    for (const [url, shown] of cases) expect(redactDatabaseUrl(url), url).toBe(shown);
  });
});

describe('embedding service settings', () => {
  const error = (flags: Record<string, string>, env: Record<string, string> = {}): string => {
    try {
      resolveConfig(flags, { XDG_DATA_HOME: '/x', ...env });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('takes a provider, a URL, a model, a key from a file, a timeout and dimensions', () => {
    const key = files({ key: 'sk-from-a-file\n' }).key!;
    const config = resolveConfig(
      { 'embed-provider': 'openai', 'embed-url': 'https://api.openai.com/v1', 'embed-model': 'text-embedding-3-small', 'embed-dimensions': '256', 'embed-timeout-ms': '5000' },
      { XDG_DATA_HOME: '/x', PINAK_EMBED_API_KEY_FILE: key },
    );
    expect(config).toMatchObject({ embedProvider: 'openai', embedUrl: 'https://api.openai.com/v1', embedModel: 'text-embedding-3-small', embedApiKey: 'sk-from-a-file', embedDimensions: 256, embedTimeoutMs: 5000 });
    expect(resolveConfig({}, { XDG_DATA_HOME: '/x' })).toMatchObject({ embedProvider: 'local', embedTimeoutMs: 10_000 });
    // TEI serves one model: its name is optional.
    expect(resolveConfig({ 'embed-provider': 'tei', 'embed-url': 'http://127.0.0.1:8080' }, { XDG_DATA_HOME: '/x' }).embedModel).toBe('bundled');
    expect(ENVIRONMENT_VARIABLES).toEqual(expect.arrayContaining(['PINAK_EMBED_PROVIDER', 'PINAK_EMBED_URL', 'PINAK_EMBED_API_KEY', 'PINAK_EMBED_API_KEY_FILE']));
  });

  it('refuses bad combinations in one line', () => {
    expect(error({ 'embed-provider': 'openai', 'embed-model': 'm' })).toMatch(/--embed-provider openai needs the service's address: set --embed-url/);
    expect(error({ 'embed-provider': 'ollama', 'embed-url': 'http://127.0.0.1:11434' })).toMatch(/needs the service's model name: set --embed-model/);
    expect(error({ 'embed-provider': 'ollama', 'embed-url': 'http://h', 'embed-model': 'none' })).toMatch(/not "none"/);
    expect(error({ 'embed-url': 'http://127.0.0.1:11434' })).toMatch(/flag --embed-url is for an embedding service: add --embed-provider/);
    expect(error({}, { PINAK_EMBED_API_KEY: 'k' })).toMatch(/environment variable PINAK_EMBED_API_KEY is for an embedding service/);
    expect(error({ 'embed-provider': 'ollama', 'embed-url': 'http://h', 'embed-model': 'm', 'embed-workers': '2' })).toMatch(/flag --embed-workers is for a model run in this process/);
    expect(error({ 'embed-provider': 'tei', 'embed-url': 'http://h', 'embed-dimensions': '64' })).toMatch(/only with --embed-provider openai/);
    expect(error({ 'embed-provider': 'cohere' })).toMatch(/invalid flag --embed-provider \("cohere"\): expected one of local, openai, ollama, tei/);
    expect(error({ 'embed-provider': 'openai', 'embed-url': 'ftp://h', 'embed-model': 'm' })).toMatch(/expected an http:\/\/ or https:\/\/ URL/);
    expect(error({ 'embed-provider': 'openai', 'embed-url': 'http://h', 'embed-model': 'm', 'embed-timeout-ms': '5' })).toMatch(/--embed-timeout-ms/);
  });

  it('never echoes the API key, nor the URL\'s password', () => {
    const message = error({ 'embed-provider': 'openai', 'embed-url': 'http://h', 'embed-model': 'm', 'embed-api-key': 'sk-secret\nline' });
    expect(message).toMatch(/invalid flag --embed-api-key: the key holds control characters/);
    expect(message).not.toContain('sk-secret');
    const url = error({ 'embed-provider': 'openai', 'embed-url': 'gopher://user:hunter2@h', 'embed-model': 'm' });
    expect(url).toContain('user:***@h');
    expect(url).not.toContain('hunter2');
  });
});

describe('workers', () => {
  const config = (flags: Record<string, string>, env: Record<string, string> = {}) => resolveConfig(flags, { PINAK_DATA_DIR: '/d', ...env });

  it('one unless set, and one for stdio; with more, sessions in the database by default', () => {
    expect(workersOf(config({ transport: 'http' }))).toBe(1);
    expect(httpSessionsIn(config({ transport: 'http' }))).toBe('memory');
    expect(workersOf(config({}))).toBe(1);
    expect(workersOf(config({ transport: 'http', 'http-sessions': 'memory' }))).toBe(1);
    expect(workersOf(config({ transport: 'http', workers: '3' }))).toBe(3);
    expect(workersOf(config({ transport: 'http', workers: '64' }))).toBe(64);
    expect(httpSessionsIn(config({ transport: 'http', workers: '2' }))).toBe('database');
    expect(httpSessionsIn(config({ transport: 'http', workers: '1' }))).toBe('memory');
    // Sessions in the database without PostgreSQL: the data directory's shared file, no longer an error.
    expect(httpSessionsIn(config({ transport: 'http', workers: '1', 'http-sessions': 'database' }))).toBe('database');
  });

  it('PINAK_WORKERS in the environment is ignored by stdio and other commands; as a flag to stdio it is refused', () => {
    expect(workersOf(config({}, { PINAK_WORKERS: '4' }))).toBe(1);
    expect(() => config({ workers: '2' })).toThrow(/stdio has one client/);
    expect(() => config({ transport: 'http', workers: '2', 'http-sessions': 'memory' })).toThrow(/use --http-sessions database/);
  });
});

describe('fusion', () => {
  it('takes a method from the flag or the environment, unset by default (the model family chooses), and refuses others in one line', () => {
    expect(resolveConfig({}, { XDG_DATA_HOME: '/x' }).fusionMethod).toBeUndefined();
    expect(resolveConfig({ 'fusion-method': 'rrf' }, { XDG_DATA_HOME: '/x' }).fusionMethod).toBe('rrf');
    expect(resolveConfig({}, { XDG_DATA_HOME: '/x', PINAK_FUSION_METHOD: 'tie-break' }).fusionMethod).toBe('tie-break');
    expect(() => resolveConfig({ 'fusion-method': 'combsum' }, { XDG_DATA_HOME: '/x' })).toThrow(/invalid flag --fusion-method \("combsum"\): expected one of rrf, tie-break$/);
  });
});
