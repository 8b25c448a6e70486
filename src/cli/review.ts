import { existsSync } from 'node:fs';
import { databaseFile, type Config } from '../config.js';
import { LOCAL_PRINCIPAL, LOCAL_TENANT } from '../domain/principal.js';
import type { Memory } from '../domain/memory.js';
import { createLogger } from '../logging.js';
import { openRuntime, openTenantRuntime } from '../open-runtime.js';
import type { Runtime } from '../runtime.js';
import type { Command, CommandInput, Family } from './command.js';
import { settingsOf, STORE_GROUPS } from './setting-groups.js';
import { oneLine, pairs, stdoutScreen, table } from './table.js';
import { existingTenant } from './tenant-place.js';
import { UsageError } from './usage-error.js';

export const reviewFamily: Family = {
  name: 'review',
  usage: 'pinak-memory review list [--namespace NS] | review show ID | review approve ID | review reject ID   [--tenant T] [--json]',
};

/** How the CLI names itself in the audit trail (its principal is `local`). */
const CLIENT_NAME = 'pinak-memory cli';

/**
 * Open the local tenant's runtime (or tenant T's beside it), as the server
 * does: the same store, embedding model and vector index, so an approved
 * memory is indexed and embedded as a write would have been.
 */
async function withTenant<T>(config: Config, tenantFlag: string | undefined, use: (runtime: Runtime, tenant: string) => Promise<T>): Promise<T> {
  if (config.databaseUrl === undefined && !existsSync(databaseFile(config))) {
    throw new UsageError(`no memory database in ${config.dataDir} (no ${databaseFile(config)}); give the data directory with --data-dir or PINAK_DATA_DIR`);
  }
  const { tenant, dataDir } = existingTenant(config, tenantFlag);
  const logger = createLogger(config.logLevel === 'info' ? 'error' : config.logLevel);
  const root = await openRuntime(config, logger, { reembed: false });
  try {
    if (tenant === LOCAL_TENANT) return await use(root, tenant);
    const own = await openTenantRuntime(config, root, tenant, dataDir, logger);
    try {
      return await use(own, tenant);
    } finally {
      await own.close();
    }
  } finally {
    await root.close();
  }
}

/** One row of the audit trail for a review step, by the local principal. */
async function audit(runtime: Runtime, tenant: string, tool: string, args: Record<string, unknown>, memory: Memory, changed: boolean, started: number): Promise<void> {
  const fingerprint = runtime.audit.fingerprint(args);
  await runtime.audit.record(
    {
      at: new Date().toISOString(),
      tool,
      namespace: memory.namespace,
      client_name: CLIENT_NAME,
      client_version: null,
      session_id: null,
      args_sha256: fingerprint.sha256,
      args_bytes: fingerprint.bytes,
      status: 'ok',
      error_code: null,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      ids_touched: changed ? [memory.id] : [],
      ids_returned: [memory.id],
      principal_id: LOCAL_PRINCIPAL.id,
      tenant,
      remote_address: null,
    },
    changed,
  );
}

const writeJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** What the queue shows of a memory: never more than a line of its text. */
const summary = (m: Memory) => ({
  id: m.id,
  namespace: m.namespace,
  layer: m.layer,
  kind: m.kind,
  origin: m.origin,
  origin_ref: m.origin_ref,
  written_by: m.written_by,
  created_at: m.created_at,
  signals: m.injection ?? [],
});

async function list({ config, options }: CommandInput): Promise<number> {
  return withTenant(config, options.tenant, async (runtime) => {
    const held = await runtime.review.held(options.namespace);
    if (options.json !== undefined) return writeJson({ held: held.map((m) => ({ ...summary(m), content: m.content })) }), 0;
    if (held.length === 0) {
      process.stderr.write('pinak-memory: no memories are held for review\n');
      return 0;
    }
    const rows = held.map((m) => [m.id, m.created_at.slice(0, 10), m.namespace, m.origin ?? 'not recorded', (m.injection ?? []).join(', '), oneLine(m.content)]);
    process.stdout.write(table(['ID', 'STORED', 'NAMESPACE', 'ORIGIN', 'SIGNALS', 'TEXT'], rows, stdoutScreen(), [1, 2]));
    return 0;
  });
}

async function show({ config, options, operands }: CommandInput): Promise<number> {
  const id = operands[0]!;
  return withTenant(config, options.tenant, async (runtime, tenant) => {
    const started = performance.now();
    const memory = await runtime.review.get(id);
    await audit(runtime, tenant, 'review show', { id }, memory, false, started);
    if (options.json !== undefined) return writeJson({ memory }), 0;
    const s = summary(memory);
    process.stdout.write(
      pairs(
        [
          ['id', s.id],
          ['namespace', s.namespace],
          ['layer/kind', `${s.layer}/${s.kind}`],
          ['from', `${s.origin ?? 'not recorded'}${s.origin_ref ? ` (${s.origin_ref})` : ''}, written by ${s.written_by ?? 'not recorded'}`],
          ['stored', s.created_at],
          ['signals', s.signals.join(', ')],
        ],
        stdoutScreen(),
      ),
    );
    // The text as stored, on lines of its own: control and invisible characters shown as code points, so what hides in it is seen.
    process.stdout.write(`\n${visible(memory.content)}\n`);
    if (Object.keys(memory.metadata).length > 0) process.stdout.write(`\nmetadata: ${visible(JSON.stringify(memory.metadata))}\n`);
    return 0;
  });
}

/** Invisible, control and direction-changing characters as <U+XXXX>, for a terminal. */
function visible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\u{E0000}-\u{E007F}]/gu, (c) => (c === '\n' || c === '\t' ? c : `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`));
}

async function decide({ config, options, operands }: CommandInput, decision: 'approve' | 'reject'): Promise<number> {
  const id = operands[0]!;
  return withTenant(config, options.tenant, async (runtime, tenant) => {
    const started = performance.now();
    const memory = decision === 'approve' ? await runtime.review.approve(id) : await runtime.review.reject(id);
    await audit(runtime, tenant, `review ${decision}`, { id }, memory, true, started);
    // The server's vector index follows the change log; so does this one's, before it closes.
    runtime.memory.vectors?.catchUp();
    if (options.json !== undefined) return writeJson({ id: memory.id, decision: decision === 'approve' ? 'approved' : 'rejected', namespace: memory.namespace }), 0;
    process.stdout.write(decision === 'approve' ? `approved ${memory.id}: searchable from now on\n` : `rejected ${memory.id}: deleted\n`);
    return 0;
  });
}

const TENANT = { type: 'string', value: 'T', help: 'that tenant\'s memories (default: the local one)' } as const;
const JSON_OPTION = { type: 'boolean', help: 'print JSON instead of a table' } as const;
const SETTINGS = settingsOf(...STORE_GROUPS);

export const reviewListCommand: Command = {
  name: 'review list',
  summary: 'list the memories held for review (injected instructions from the web, tools or imports)',
  usage: 'review list [options]',
  details: 'Held memories are stored and audited but found by no search until approved.',
  operands: { min: 0, max: 0 },
  options: { namespace: { type: 'string', value: 'NS', help: 'only that namespace\'s' }, tenant: TENANT, json: JSON_OPTION },
  settings: SETTINGS,
  family: 'review',
  run: list,
};

export const reviewShowCommand: Command = {
  name: 'review show',
  summary: 'show a held memory whole, with the signals that held it',
  usage: 'review show ID [options]',
  operands: { min: 1, max: 1 },
  options: { tenant: TENANT, json: JSON_OPTION },
  settings: SETTINGS,
  family: 'review',
  run: show,
};

export const reviewApproveCommand: Command = {
  name: 'review approve',
  summary: 'approve a held memory: indexed, embedded and searchable from now on (audited)',
  usage: 'review approve ID [options]',
  operands: { min: 1, max: 1 },
  options: { tenant: TENANT, json: JSON_OPTION },
  settings: SETTINGS,
  family: 'review',
  run: (input) => decide(input, 'approve'),
};

export const reviewRejectCommand: Command = {
  name: 'review reject',
  summary: 'reject a held memory: deleted, as forget deletes (audited)',
  usage: 'review reject ID [options]',
  operands: { min: 1, max: 1 },
  options: { tenant: TENANT, json: JSON_OPTION },
  settings: SETTINGS,
  family: 'review',
  run: (input) => decide(input, 'reject'),
};
