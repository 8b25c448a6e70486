import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { HAPROXY_CFG, haproxyConfig, SHIPPED_HAPROXY } from '../../scripts/lib/haproxy-config.js';
import { COMMANDS, FAMILIES } from '../../src/cli/commands.js';
import { parseCommandLine } from '../../src/cli/parse.js';
import { ENVIRONMENT_VARIABLES, jwtOptions, resolveConfig } from '../../src/config.js';
import { VERSION } from '../../src/server.js';
import { checkBindAddress } from '../../src/transports/http/bind-policy.js';
import { haproxyBinary } from '../helpers/haproxy.js';
import { spawnHttp } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

const temp = makeTempDir('pinak-deploy-files-');
afterAll(() => temp.cleanup());

// ---------- Dockerfile ----------

interface Instruction {
  keyword: string;
  /** The rest of the line, continuations joined. */
  args: string;
  line: number;
}

/** A Dockerfile's instructions: comments and blank lines dropped, lines ending in a backslash joined to the next. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | null = null;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (pending === null && (line === '' || line.startsWith('#'))) continue;
    if (pending !== null && line.startsWith('#')) continue;
    const continued = line.endsWith('\\');
    const part = continued ? line.slice(0, -1).trim() : line;
    pending = pending === null ? { text: part, line: index + 1 } : { text: `${pending.text} ${part}`, line: pending.line };
    if (continued) continue;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text)!;
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: pending.line });
    pending = null;
  }
  return instructions;
}

/** The instructions of the last stage: what the image is. */
const finalStage = (instructions: readonly Instruction[]): Instruction[] => instructions.slice(instructions.map((i) => i.keyword).lastIndexOf('FROM'));

/** An exec-form argument list (a JSON array); the shell form is refused, as signals would go to a shell. */
function execForm(instruction: Instruction | undefined, what: string): string[] {
  expect(instruction, `the Dockerfile has no ${what}`).toBeDefined();
  const value: unknown = JSON.parse(instruction!.args);
  expect(Array.isArray(value) && value.every((v) => typeof v === 'string'), `${what} must be a JSON array of strings`).toBe(true);
  return value as string[];
}

/** ENV KEY=VALUE … (values optionally double-quoted) of a stage, in order. */
function envOf(stage: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of stage.filter((i) => i.keyword === 'ENV')) {
    for (const match of instruction.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      env[match[1]!] = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!;
    }
  }
  return env;
}

const last = (stage: readonly Instruction[], keyword: string): Instruction | undefined => stage.filter((i) => i.keyword === keyword).at(-1);

function dockerfile() {
  const stage = finalStage(parseDockerfile(read('Dockerfile')));
  const entrypoint = execForm(last(stage, 'ENTRYPOINT'), 'ENTRYPOINT');
  const cmd = execForm(last(stage, 'CMD'), 'CMD');
  const healthcheck = last(stage, 'HEALTHCHECK');
  const healthcheckCommand = execForm(healthcheck && { ...healthcheck, args: healthcheck.args.replace(/^(--\S+\s+)*CMD\s+/, '') }, 'HEALTHCHECK CMD');
  const workdir = last(stage, 'WORKDIR')?.args ?? '/';
  const copies = stage.filter((i) => i.keyword === 'COPY').map((i) => {
    const words = i.args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length) ?? null;
    const paths = words.filter((w) => !w.startsWith('--'));
    return { from, sources: paths.slice(0, -1), destination: posix.resolve(workdir, paths.at(-1)!) };
  });
  return {
    stage,
    entrypoint,
    cmd,
    healthcheckCommand,
    workdir,
    copies,
    env: envOf(stage),
    user: last(stage, 'USER')?.args,
    exposed: stage.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((port) => Number(port.replace(/\/tcp$/, ''))),
  };
}

/** The configuration the image's command means, with the image's environment and `env` on top. */
function imageConfig(env: Record<string, string> = {}) {
  const image = dockerfile();
  const args = [...image.entrypoint.slice(2), ...image.cmd];
  const line = parseCommandLine(args, COMMANDS, FAMILIES, VERSION);
  if (line.kind !== 'run') throw new Error(`the image's command ${JSON.stringify(args)} prints help instead of running`);
  return { line, config: resolveConfig(line.settings, { ...image.env, ...env }) };
}

describe('Dockerfile', () => {
  it('runs the CLI the final stage copies, with a command the real parser accepts as HTTP on 0.0.0.0:7878, allowed to bind there', () => {
    const image = dockerfile();
    expect(image.entrypoint.slice(0, 2)).toEqual(['node', posix.join(image.workdir, 'dist/cli.js')]);
    const { line, config } = imageConfig();
    expect(line.command.name).toBe('serve');
    expect({ transport: config.transport, host: config.host, port: config.port }).toEqual({ transport: 'http', host: '0.0.0.0', port: 7878 });
    // Beyond loopback only when every request must carry a credential, whether or not a key exists yet.
    expect(() => checkBindAddress(config.host, config.auth === 'keys' || jwtOptions(config) !== null)).not.toThrow();
  });

  it('exposes the port the command listens on, and checks health by GET /readyz on it', () => {
    const image = dockerfile();
    const { config } = imageConfig();
    expect(image.exposed).toEqual([config.port]);
    const script = image.healthcheckCommand.join(' ');
    expect(image.healthcheckCommand[0]).toBe('node');
    expect(/http:\/\/(?:127\.0\.0\.1|localhost):(\d+)\/readyz\b/.exec(script)?.[1], `HEALTHCHECK: ${script}`).toBe(String(config.port));
  });

  it('runs as a user other than root', () => {
    const { user } = dockerfile();
    expect(user, 'the final stage has no USER').toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  it('copies into the image what the server reads beside dist/: package.json (its version), node_modules and the bundled model', () => {
    const image = dockerfile();
    const destinations = image.copies.map((copy) => copy.destination);
    for (const path of ['package.json', 'node_modules', 'dist', 'models']) expect(destinations, path).toContain(posix.join(image.workdir, path));
    // The model is found at dist/../models (src/embeddings/model-source.ts), the version at dist/../package.json (src/server.ts).
    expect(read('src/embeddings/model-source.ts')).toContain("new URL('../../models/', import.meta.url)");
    expect(read('src/server.ts')).toContain("require('../package.json')");
  });

  it('sends to the build every file the Dockerfile copies from its context, and nothing else but them', () => {
    const rules = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    const included = (path: string): boolean => {
      let keep = true;
      for (const rule of rules) {
        const negated = rule.startsWith('!');
        const pattern = (negated ? rule.slice(1) : rule).replace(/\/$/, '');
        if (pattern === '*' || path === pattern || path.startsWith(`${pattern}/`)) keep = negated;
      }
      return keep;
    };
    const fromContext = parseDockerfile(read('Dockerfile')).filter((i) => i.keyword === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) expect(included(source.replace(/^\.\//, '')), `${source} is left out by .dockerignore`).toBe(true);
    for (const path of ['node_modules', 'dist', '.git', 'test', 'deploy/secrets/database_url']) expect(included(path), `${path} is sent to the build`).toBe(false);
  });

  it('sets only environment variables the configuration reads', () => {
    const names = Object.keys(dockerfile().env).filter((name) => name.startsWith('PINAK_'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(ENVIRONMENT_VARIABLES, `Dockerfile ENV ${name}`).toContain(name);
  });

  it('has a HEALTHCHECK command that passes on a ready server and fails on a closed port', async () => {
    const { healthcheckCommand } = dockerfile();
    const { config } = imageConfig();
    const { dir, cleanup } = makeTempDir('pinak-healthcheck-');
    const server = await spawnHttp(dir, ['--embed-model', 'none']);
    try {
      const pointedAt = (port: number) => healthcheckCommand.map((arg) => arg.replaceAll(`:${config.port}/`, `:${port}/`));
      const run = (args: string[]) => spawnSync(process.execPath, args.slice(1), { encoding: 'utf8', timeout: 10_000 });
      const ok = run(pointedAt(server.port));
      expect(ok.status, ok.stderr).toBe(0);
      await server.stop();
      expect(run(pointedAt(server.port)).status).toBe(1);
    } finally {
      await server.stop('SIGKILL');
      cleanup();
    }
  });
});

// ---------- haproxy.cfg ----------

/** The server lines of a haproxy backend: name and address. */
function haproxyServers(text: string, backend: string): Array<{ name: string; address: string }> {
  const servers: Array<{ name: string; address: string }> = [];
  let inside = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trimEnd();
    if (/^\S/.test(line)) inside = line.trim() === `backend ${backend}`;
    const server = /^\s+server\s+(\S+)\s+(\S+)/.exec(line);
    if (inside && server) servers.push({ name: server[1]!, address: server[2]! });
  }
  return servers;
}

describe('deploy/haproxy.cfg', () => {
  it('is what npm run gen:deploy writes (the rules the tests run)', () => {
    expect(read(HAPROXY_CFG), `${HAPROXY_CFG} is stale: run npm run gen:deploy`).toBe(haproxyConfig(SHIPPED_HAPROXY));
  });

  it('passes haproxy -c, with no warning but the replica names not resolving outside Docker', () => {
    const result = spawnSync(haproxyBinary(), ['-c', '-f', join(ROOT, HAPROXY_CFG)], { encoding: 'utf8', timeout: 30_000 });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(output).toContain('Configuration file is valid');
    const warnings = output.split('\n').filter((line) => /\[(WARNING|ALERT)\]/.test(line));
    for (const warning of warnings) expect(warning).toMatch(/could not resolve address '[a-z0-9-]+', disabling server/);
  });

  it('routes /messages?replica=NAME to the server NAME, for every server of the backend', () => {
    const text = read(HAPROXY_CFG);
    for (const { name } of haproxyServers(text, 'pinak')) {
      expect(text).toMatch(new RegExp(`^\\s+use-server ${name} if sse_message \\{ urlp\\(replica\\) -m str ${name} \\}$`, 'm'));
    }
    expect(text).toMatch(/^\s+acl sse_message path \/messages$/m);
  });
});

// ---------- docker-compose.prod.yml ----------

type Service = {
  image?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  secrets?: Array<string | { source: string; target?: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  healthcheck?: { test?: string[] | string };
};
type Compose = { services: Record<string, Service>; secrets?: Record<string, { file?: string }> };

const compose = (): Compose => parseYaml(read('docker-compose.prod.yml'), { merge: true }) as Compose;

/** A service's environment as a map, with ${VAR:-default} read as its default (nothing else is set when the file is checked). */
function environmentOf(service: Service): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)] as const)
    : Object.entries(service.environment ?? {}).map(([name, value]) => [name, value === null ? '' : String(value)] as const);
  return Object.fromEntries(entries.map(([name, value]) => [name, value.replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_, fallback: string | undefined) => fallback ?? '')]));
}

/** The compose services that run Pinak: those given a replica name. */
const replicas = (file: Compose): Array<[string, Service]> => Object.entries(file.services).filter(([, service]) => environmentOf(service).PINAK_REPLICA_NAME !== undefined);

describe('docker-compose.prod.yml', () => {
  it('sets only environment variables the configuration reads', () => {
    const names = Object.values(compose().services).flatMap((service) => Object.keys(environmentOf(service))).filter((name) => name.startsWith('PINAK_'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(ENVIRONMENT_VARIABLES, `compose environment ${name}`).toContain(name);
  });

  it('names each replica after its service, and runs exactly the servers of the proxy\'s backend', () => {
    const file = compose();
    const named = replicas(file).map(([service, spec]) => [service, environmentOf(spec).PINAK_REPLICA_NAME]);
    expect(named.length).toBeGreaterThanOrEqual(2);
    for (const [service, name] of named) expect(name, `service ${service}`).toBe(service);
    const servers = haproxyServers(read(HAPROXY_CFG), 'pinak');
    expect(servers.map((s) => s.name).sort()).toEqual(named.map(([service]) => service).sort());
    const { config } = imageConfig();
    for (const server of servers) {
      expect(Object.keys(file.services), `haproxy server ${server.name}`).toContain(server.name);
      expect(server.address).toBe(`${server.name}:${config.port}`);
    }
  });

  it('gives every replica a configuration the server accepts: the image\'s command, its environment and the database URL from a secret', () => {
    const file = compose();
    const secretFile = join(temp.dir, 'database_url');
    writeFileSync(secretFile, 'postgres://pinak:secret@postgres:5432/pinak\n');
    for (const [name, service] of replicas(file)) {
      const env = environmentOf(service);
      const secretPath = env.PINAK_DATABASE_URL_FILE;
      expect(secretPath, `${name} has no PINAK_DATABASE_URL_FILE`).toMatch(/^\/run\/secrets\/[a-z_]+$/);
      const secret = posix.basename(secretPath!);
      expect(service.secrets?.map((s) => (typeof s === 'string' ? s : s.source)), `${name}'s secrets`).toContain(secret);
      expect(file.secrets?.[secret]?.file, `secret ${secret}`).toMatch(/^\.\/deploy\/secrets\/[a-z_]+$/);
      const { config } = imageConfig({ ...env, PINAK_DATABASE_URL_FILE: secretFile });
      expect(config).toMatchObject({ replicaName: name, databaseUrl: 'postgres://pinak:secret@postgres:5432/pinak', transport: 'http', host: '0.0.0.0' });
      expect(config.waitForDatabaseMs, `${name} should wait for a slow database`).toBeGreaterThan(0);
      const dependsOn = service.depends_on as Record<string, { condition?: string }>;
      expect(dependsOn?.postgres?.condition, `${name} starts once PostgreSQL is healthy`).toBe('service_healthy');
    }
  });

  it('runs PostgreSQL with pgvector, its password from a secret file, its data in a volume, and a pg_isready health check', () => {
    const file = compose();
    const postgres = file.services.postgres!;
    expect(postgres.image).toMatch(/^pgvector\/pgvector:pg1[6-9]$/);
    const passwordFile = environmentOf(postgres).POSTGRES_PASSWORD_FILE!;
    expect(postgres.secrets).toContain(posix.basename(passwordFile));
    expect(file.secrets?.[posix.basename(passwordFile)]?.file).toMatch(/^\.\/deploy\/secrets\//);
    expect(postgres.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(true);
    expect(JSON.stringify(postgres.healthcheck?.test)).toContain('pg_isready');
  });

  it('publishes the proxy\'s frontend port with the shipped haproxy.cfg mounted, and keeps Redis behind a profile', () => {
    const file = compose();
    const proxy = file.services.proxy!;
    expect(proxy.image).toMatch(/^haproxy:/);
    expect(proxy.volumes).toContain(`./${HAPROXY_CFG}:/usr/local/etc/haproxy/haproxy.cfg:ro`);
    const bindPort = /^\s+bind \S*:(\d+)$/m.exec(read(HAPROXY_CFG))![1];
    expect(proxy.ports?.map((p) => p.split(':').at(-1))).toEqual([bindPort]);
    expect(file.services.redis?.profiles).toEqual(['redis']);
  });

  it('keeps the secret files out of git', () => {
    const result = spawnSync('git', ['check-ignore', '--no-index', 'deploy/secrets/database_url', 'deploy/secrets/postgres_password', 'deploy/secrets/README.md'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stdout.trim().split('\n')).toEqual(['deploy/secrets/database_url', 'deploy/secrets/postgres_password']);
  });
});
