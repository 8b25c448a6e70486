import { existsSync } from 'node:fs';
import { keyedFingerprinter } from '../audit/fingerprint.js';
import { fingerprintSecret } from '../open-runtime.js';
import { mergeByTime, noRows, ofTenant } from '../audit/merge.js';
import { parseTenant } from '../auth/key-input.js';
import type { Config } from '../config.js';
import { LOCAL_TENANT } from '../domain/principal.js';
import { openStore, sqliteFile } from '../store/open-store.js';
import { tenantDataDir } from '../tenants.js';
import type { Command, Family } from './command.js';
import { LineOutput } from './output.js';
import { settingsOf } from './setting-groups.js';
import { UsageError } from './usage-error.js';

export const auditFamily: Family = {
  name: 'audit',
  usage: 'pinak-memory audit export [--since ISO] [--tenant T] [--output FILE] | audit fingerprint [--args JSON]',
};

/**
 * The audit trail of the local tenant, or of tenant T: the calls in its own
 * database, with the HTTP refusals of its keys (kept in the local trail) merged in.
 */
async function exportAudit(config: Config, since: string | undefined, output: string | undefined, tenantFlag: string | undefined): Promise<number> {
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new UsageError(`--since needs an ISO 8601 time, got ${JSON.stringify(since)}`);
  const tenant = tenantFlag === undefined ? LOCAL_TENANT : parseTenant(tenantFlag);
  const from = since === undefined ? undefined : new Date(since).toISOString();
  const out = LineOutput.open(output);
  const { store } = await openStore(config, { tenant: LOCAL_TENANT, dataDir: config.dataDir }, { serving: false });
  const tenantDir = tenantDataDir(config.dataDir, tenant);
  // A tenant that has never been used has no trail of its own (and none is created for it).
  const used = tenant !== LOCAL_TENANT && (config.databaseUrl !== undefined || existsSync(sqliteFile(tenantDir)));
  const own = used ? (await openStore(config, { tenant, dataDir: tenantDir }, { serving: false }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  })).store : null;
  try {
    const local = store.exportAudit(from);
    const rows = tenant === LOCAL_TENANT ? local : mergeByTime(own?.exportAudit(from) ?? noRows(), ofTenant(local, tenant));
    let count = 0;
    for await (const row of rows) {
      if (!(await out.write(`${JSON.stringify(row)}\n`))) return 0; // the reader has gone (audit export | head)
      count += 1;
    }
    await out.close();
    if (out.toFile) process.stderr.write(`pinak-memory: wrote ${count} audit rows to ${output}\n`);
    return 0;
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
async function auditFingerprint(config: Config, argsFlag: string | undefined): Promise<number> {
  if (argsFlag === undefined && process.stdin.isTTY) throw new UsageError('audit fingerprint needs the arguments as JSON: --args \'{"content":"…"}\' or on stdin');
  const text = argsFlag ?? (await readStdin());
  let args: unknown;
  try {
    args = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`audit fingerprint: the arguments are not JSON (${(error as Error).message}); give the call's arguments object, e.g. --args '{"content":"…"}'`);
  }
  const fingerprint = keyedFingerprinter(await fingerprintSecret(config, { create: false }));
  process.stdout.write(`${fingerprint(args).sha256}\n`);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const auditExportCommand: Command = {
  name: 'audit export',
  summary: 'write the audit trail as JSON lines (calls and refusals, never memory text)',
  usage: 'audit export [options]',
  operands: { min: 0, max: 0 },
  options: {
    since: { type: 'string', value: 'ISO', help: 'only calls at or after this time' },
    tenant: { type: 'string', value: 'T', help: 'that tenant\'s trail, with its keys\' refusals merged in (default: the local one)' },
    output: { type: 'string', value: 'FILE', help: 'write to FILE instead of stdout' },
  },
  settings: settingsOf('place', 'locking', 'postgres'),
  family: 'audit',
  run: ({ config, options }) => exportAudit(config, options.since, options.output, options.tenant),
};

export const auditFingerprintCommand: Command = {
  name: 'audit fingerprint',
  summary: 'print the args_sha256 audit rows hold for a call with given arguments',
  usage: 'audit fingerprint [--args JSON]',
  details: 'The fingerprint is keyed with the data directory\'s secret; key order in the JSON does not matter.',
  operands: { min: 0, max: 0 },
  options: {
    args: { type: 'string', value: 'JSON', help: 'the call\'s arguments object (default: read from stdin)' },
  },
  settings: settingsOf('place', 'postgres'),
  family: 'audit',
  run: ({ config, options }) => auditFingerprint(config, options.args),
};
