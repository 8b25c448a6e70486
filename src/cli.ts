#!/usr/bin/env node
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { keyedFingerprinter } from './audit/fingerprint.js';
import { FingerprintSecretError, loadFingerprintSecret } from './audit/fingerprint-secret.js';
import { mergeByTime } from './audit/merge.js';
import { keysCommand } from './auth/key-commands.js';
import { parseTenant } from './auth/key-input.js';
import { KeyStore } from './auth/key-store.js';
import { ConfigError, databaseFile, jwtOptions, keysFile, rateLimitBurst, resolveConfig, SETTINGS, type Config } from './config.js';
import { MemoryError } from './domain/errors.js';
import { LOCAL_TENANT } from './domain/principal.js';
import { createLogger } from './logging.js';
import { importMemories } from './memory/import-export.js';
import { reembedMissing } from './memory/reembed.js';
import { openRuntime, openTenantRuntime, type Runtime } from './runtime.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { VERSION } from './server.js';
import { checkBindAddress, HttpStartError } from './transports/http/bind-policy.js';
import type { HttpOptions } from './transports/http/context.js';
import { serveHttp } from './transports/http/http-server.js';
import { shutdownOnce, type Service } from './transports/shutdown.js';
import { serveStdio } from './transports/stdio.js';
import { tenantDataDir } from './tenants.js';

const HELP = `pinak-memory ${VERSION}: a durable, searchable, layered memory for AI agents (MCP server)

Usage:
  pinak-memory [serve] [options]          serve MCP over stdio (the default), or over HTTP with --transport http
  pinak-memory reindex [options]          embed every record that has no vector of the active model
  pinak-memory import FILE.jsonl          store memories from JSON lines (exported memories or remember inputs)
  pinak-memory export [options]           write every memory as JSON lines (lossless; import reads it back)
      --namespace NS                      only this namespace
      --output FILE                       write to FILE instead of stdout
  pinak-memory audit export [options]     write the audit trail as JSONL
      --since ISO                         only calls at or after this time
      --tenant T                          that tenant's trail (default: the local one)
      --output FILE                       write to FILE instead of stdout
  pinak-memory audit fingerprint [options]
                                          print the args_sha256 audit rows hold for a call with given arguments
      --args JSON                         the call's arguments object (default: read from stdin)
  pinak-memory keys create [options]      create an API key for HTTP; prints it once, on stdout
      --tenant T --role R                 its tenant, and reader, writer or admin (both required)
      --namespaces a,b                    only these namespaces (the first is its default)
      --expires ISO|30d                   when it stops working (a time, or m/h/d/w from now)
      --name LABEL                        a label for keys list
  pinak-memory keys list                  every key (never the key itself)
  pinak-memory keys revoke ID             stop a key at once
  pinak-memory --help | --version

Options (flag, environment variable):
${SETTINGS.map((s) => `  --${s.flag} VALUE`.padEnd(30) + ` ${s.env}\n${''.padEnd(30)}   ${s.help}`).join('\n')}
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  since: { type: 'string' },
  output: { type: 'string' },
  tenant: { type: 'string' },
  role: { type: 'string' },
  namespaces: { type: 'string' },
  expires: { type: 'string' },
  name: { type: 'string' },
  args: { type: 'string' },
  ...Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' }])),
} as const;

/** How long a shutdown waits for tool calls in flight. */
const SHUTDOWN_GRACE_MS = 10_000;

/** A failure the user can fix: printed as one line, exit code 1. */
class UsageError extends Error {}

function fail(message: string): never {
  process.stderr.write(`pinak-memory: ${message}\n`);
  process.exit(1);
}

async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  // Refuse a bad address before opening anything.
  if (config.transport === 'http') checkBindAddress(config.host, config.auth === 'keys' || jwtOptions(config) !== null || keysExist(config));
  const runtime = await openRuntime(config, logger);
  const starting = (config.transport === 'http' ? serveHttp(runtime, httpOptions(config, runtime)) : serveStdio(runtime)).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  const shutdown = starting.then((service: Service) => shutdownOnce(runtime, service, SHUTDOWN_GRACE_MS));
  shutdown.catch(() => {}); // a failed start is reported once, by main
  const stop = async (reason: string): Promise<void> => {
    let close: (reason: string) => Promise<void>;
    try {
      close = await shutdown;
    } catch {
      return; // the start failed: main reports it
    }
    try {
      await close(reason);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    process.exit(0);
  };
  // Signals are handled from the start: a signal while starting shuts down once started.
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await stop(await (await starting).done);
}

/** Whether any API key was ever created here (without creating the key store). */
function keysExist(config: Config): boolean {
  if (!existsSync(keysFile(config))) return false;
  const store = KeyStore.open(keysFile(config), config.busyTimeoutMs);
  try {
    return store.any();
  } finally {
    store.close();
  }
}

const httpOptions = (config: Config, runtime: Runtime): HttpOptions => ({
  host: config.host,
  port: config.port,
  allowedHosts: config.allowedHosts,
  allowedOrigins: config.allowedOrigins,
  maxBodyBytes: config.maxBodyBytes,
  maxSessions: config.maxSessions,
  maxSessionsPerKey: config.maxSessionsPerKey,
  maxSessionsPerTenant: config.maxSessionsPerTenant,
  maxConnections: config.maxConnections,
  maxCallsPerSession: config.maxCallsPerSession,
  sessionIdleMs: config.sessionIdleSeconds * 1000,
  keys: { file: keysFile(config), mode: config.auth, busyTimeoutMs: config.busyTimeoutMs },
  jwt: jwtOptions(config),
  rateLimit: { perMinute: config.rateLimitPerMinute, burst: rateLimitBurst(config) },
  dataDir: config.dataDir,
  maxOpenTenants: config.maxOpenTenants,
  openTenant: (tenant, dir) => openTenantRuntime(config, runtime, dir, runtime.logger.child({ tenant })),
});

/** `keys create | list | revoke ID`: the key itself is printed once, by create, and never again. */
function keys(config: Config, args: string[], flags: Record<string, string | boolean | undefined>): void {
  const out = keysCommand(keysFile(config), config.busyTimeoutMs, args, flags as Record<string, string | undefined>);
  if (out.stdout) process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
}

/**
 * The audit trail of the local tenant, or of tenant T: the calls in its own
 * database, with the HTTP refusals of its keys (kept in the local trail) merged in.
 */
async function exportAudit(config: Config, since: string | undefined, output: string | undefined, tenantFlag: string | undefined): Promise<void> {
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new UsageError(`--since needs an ISO 8601 time, got ${JSON.stringify(since)}`);
  const tenant = tenantFlag === undefined ? LOCAL_TENANT : parseTenant(tenantFlag);
  const from = since === undefined ? undefined : new Date(since).toISOString();
  const store = SqliteStore.open({ file: databaseFile(config), busyTimeoutMs: config.busyTimeoutMs });
  const tenantFile = databaseFile({ dataDir: tenantDataDir(config.dataDir, tenant) });
  const own = tenant !== LOCAL_TENANT && existsSync(tenantFile) ? SqliteStore.open({ file: tenantFile, busyTimeoutMs: config.busyTimeoutMs }) : null;
  const out = output ? createWriteStream(output) : process.stdout;
  try {
    const local = store.exportAudit(from);
    const rows = tenant === LOCAL_TENANT ? local : mergeByTime(own?.exportAudit(from) ?? [], [...local].filter((row) => row.tenant === tenant));
    let count = 0;
    for (const row of rows) {
      if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, 'drain');
      count += 1;
    }
    if (output) {
      (out as ReturnType<typeof createWriteStream>).end();
      await once(out, 'finish');
      process.stderr.write(`pinak-memory: wrote ${count} audit rows to ${output}\n`);
    }
  } finally {
    await own?.close();
    await store.close();
  }
}

/**
 * The keyed fingerprint an audit row holds (`args_sha256`) for a call with
 * these arguments, so whoever holds the data directory's secret can still
 * find a known request in an exported trail (the JSON is read as the server
 * reads a call's arguments; key order does not matter).
 */
async function auditFingerprint(config: Config, argsFlag: string | undefined): Promise<void> {
  if (argsFlag === undefined && process.stdin.isTTY) throw new UsageError('audit fingerprint needs the arguments as JSON: --args \'{"content":"…"}\' or on stdin');
  const text = argsFlag ?? (await readStdin());
  let args: unknown;
  try {
    args = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`audit fingerprint: the arguments are not JSON (${(error as Error).message}); give the call's arguments object, e.g. --args '{"content":"…"}'`);
  }
  const fingerprint = keyedFingerprinter(loadFingerprintSecret(config.dataDir, { create: false }));
  process.stdout.write(`${fingerprint(args).sha256}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A one-line progress bar on a terminal; nothing when stderr is not one. */
function progressBar(label: string): { update(done: number, total: number): void; end(): void } {
  if (!process.stderr.isTTY) return { update() {}, end() {} };
  return {
    update(done, total) {
      const width = 30;
      const share = total <= 0 ? 1 : Math.min(1, done / total);
      const filled = Math.round(share * width);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    end: () => process.stderr.write('\n'),
  };
}

async function reindex(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const runtime = await openRuntime(config, logger, { reembed: false });
  const embedder = runtime.memory.vectors ? runtime.memory.embedder : null;
  try {
    if (!embedder) throw new UsageError('no embedding model is active (embed model "none"); nothing to reindex');
    const bar = progressBar('embedding');
    const start = await runtime.store.embeddingProgress(embedder.model.key);
    bar.update(start.embedded, start.docs);
    const done = await reembedMissing(runtime.store, embedder, logger, {
      batch: config.embedBatch * 4,
      onProgress: (p) => {
        runtime.memory.vectors?.catchUp();
        bar.update(p.embedded, p.docs);
      },
    });
    bar.end();
    process.stderr.write(`pinak-memory: embedded ${done} record(s) with ${embedder.model.id}; ${start.docs - start.embedded - done <= 0 ? 'all records have vectors' : 'some records are left'}\n`);
  } finally {
    await runtime.close();
  }
}

async function importFile(config: Config, file: string | undefined): Promise<void> {
  if (!file) throw new UsageError('import needs a file: pinak-memory import FILE.jsonl');
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const runtime = await openRuntime(config, logger, { reembed: false });
  const bar = progressBar('importing');
  const input = createReadStream(file);
  let bytes = 0;
  input.on('data', (chunk) => (bytes += chunk.length));
  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    const { progress, problems } = await importMemories(runtime.memory, { clientName: 'pinak-memory import' }, lines, () => bar.update(bytes, size));
    bar.end();
    for (const problem of problems) process.stderr.write(`pinak-memory: ${file}:${problem.line}: ${problem.message}\n`);
    process.stderr.write(`pinak-memory: imported ${progress.imported} memories from ${file}; ${progress.skipped} already present, ${progress.failed} failed\n`);
    if (progress.failed > 0) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}

async function exportFile(config: Config, namespace: string | undefined, output: string | undefined): Promise<void> {
  const store = SqliteStore.open({ file: databaseFile(config), busyTimeoutMs: config.busyTimeoutMs });
  const out = output ? createWriteStream(output) : process.stdout;
  try {
    const total = (await store.stats()).memories_total;
    const bar = output ? progressBar('exporting') : progressBar('');
    let count = 0;
    for (const memory of store.exportMemories(namespace)) {
      if (!out.write(`${JSON.stringify(memory)}\n`)) await once(out, 'drain');
      if (++count % 1000 === 0 && output) bar.update(count, total);
    }
    if (output) {
      bar.update(count, total);
      bar.end();
      (out as ReturnType<typeof createWriteStream>).end();
      await once(out, 'finish');
      process.stderr.write(`pinak-memory: exported ${count} memories to ${output}\n`);
    }
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);

  const flagValues = values as Record<string, string | boolean | undefined>;
  const flags = Object.fromEntries(SETTINGS.map((s) => [s.flag, flagValues[s.flag] as string | undefined]));
  const config = resolveConfig(flags, process.env);
  const [first, ...rest] = positionals;
  if (first === 'import') return importFile(config, rest.length === 1 ? rest[0] : undefined);
  if (first === 'export' && rest.length === 0) return exportFile(config, flags.namespace, values.output);
  const command = positionals.join(' ');
  if (command === '' || command === 'serve') return serve(config);
  if (command === 'audit export') return exportAudit(config, values.since, values.output, values.tenant);
  if (command === 'audit fingerprint') return auditFingerprint(config, values.args);
  if (first === 'keys') return keys(config, rest, values);
  if (command === 'reindex') return reindex(config);
  throw new UsageError(`unknown command "${command}" (see --help)`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof MemoryError || error instanceof HttpStartError || error instanceof FingerprintSecretError) fail(error.message);
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && /^(SQLITE_|E[A-Z]+$)/.test(code)) fail(`cannot open the memory database: ${(error as Error).message} (${code})`);
  process.stderr.write(`pinak-memory: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
