import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { runCli, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
function tempDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-cli-');
  cleanups.push(cleanup);
  return dir;
}

describe('the command line', () => {
  it('prints help and version on stdout', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--data-dir');
    expect(help.stdout).toContain('PINAK_DATA_DIR');
    expect(runCli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('keeps the global help short: the commands, and where each one\'s options are', () => {
    const help = runCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout.trim().split('\n').length).toBeLessThan(40);
    for (const command of ['serve', 'export', 'import FILE', 'reindex', 'migrate-store', 'keys create', 'keys list', 'keys revoke ID', 'audit export', 'audit fingerprint']) {
      expect(help.stdout, command).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    }
    expect(help.stdout).toContain('pinak-memory serve --help');
    expect(runCli(['-h']).stdout).toBe(help.stdout);
  });

  it('gives each command a help of its own, listing only the flags it takes', () => {
    const global = runCli(['--help']).stdout;
    const cases: Array<[string[], string[], string[]]> = [
      [['export'], ['--output FILE', '--namespace NS', '--tenant T', '--data-dir', 'PINAK_DATA_DIR', '--busy-timeout-ms'], ['--since', '--port', '--role', '--embed-model']],
      [['import'], ['import FILE', '--data-dir', '--embed-model', '--namespace', '--max-content-bytes'], ['--output', '--since', '--port', '--fusion-rrf-k']],
      [['reindex'], ['--embed-model', '--embed-batch', '--hnsw-m'], ['--output', '--namespace', '--port']],
      [['migrate-store'], ['--from DIR', '--to URL', '--data-dir', '--database-url', '--database-pool-size', '--hnsw-m', 'Exit code 0'], ['--output', '--namespace', '--port', '--embed-model', '--snapshot-every-changes']],
      [['keys', 'create'], ['--tenant T', '--role R', '--namespaces', '--expires', '--name'], ['--output', '--since', '--port', '--embed-model']],
      [['keys', 'list'], ['--data-dir'], ['--tenant', '--role', '--output']],
      [['keys', 'revoke'], ['keys revoke ID'], ['--tenant', '--output']],
      [['audit', 'export'], ['--since ISO', '--tenant T', '--output FILE'], ['--namespace', '--role', '--port']],
      [['audit', 'fingerprint'], ['--args JSON', '--data-dir'], ['--output', '--since', '--busy-timeout-ms']],
      [['serve'], ['--transport', '--host', '--port', '--allowed-hosts', '--embed-model', '--soft-and-weight', 'PINAK_TRANSPORT'], ['--output', '--since', '--role']],
    ];
    for (const [words, present, absent] of cases) {
      const name = words.join(' ');
      for (const asked of [[...words, '--help'], ['--help', ...words, '--data-dir', '/nonexistent']]) {
        const run = runCli(asked);
        expect([asked.join(' '), run.status, run.stderr]).toEqual([asked.join(' '), 0, '']);
        expect(run.stdout).not.toBe(global);
        expect(run.stdout.split('\n')[0], name).toMatch(new RegExp(`^pinak-memory ${name}: `));
        expect(run.stdout, name).toContain(`Usage: pinak-memory ${name}`);
        for (const flag of present) expect(run.stdout, `${name} --help lists ${flag}`).toContain(flag);
        for (const flag of absent) expect(run.stdout, `${name} --help does not list ${flag}`).not.toMatch(new RegExp(`${flag}\\b`));
      }
    }
    const keys = runCli(['keys', '--help']);
    expect(keys.status).toBe(0);
    for (const command of ['keys create', 'keys list', 'keys revoke ID']) expect(keys.stdout).toContain(command);
  });

  it('refuses a flag the command does not take, or does not know, in one line with exit code 1, doing nothing', () => {
    const dir = tempDir();
    const file = join(dir, 'in.jsonl');
    writeFileSync(file, `${JSON.stringify({ content: 'never imported' })}\n`);
    const refused: Array<[string[], string]> = [
      [['export', '--since', '2020-01-01'], 'export does not take --since; see pinak-memory export --help'],
      [['export', '--port=80'], 'export does not take --port; see pinak-memory export --help'],
      [['--role', 'admin', 'export'], 'export does not take --role; see pinak-memory export --help'],
      [['import', file, '--output', 'x'], 'import does not take --output; see pinak-memory import --help'],
      [['reindex', '--namespace', 'x'], 'reindex does not take --namespace; see pinak-memory reindex --help'],
      [['migrate-store', '--embed-model', 'none'], 'migrate-store does not take --embed-model; see pinak-memory migrate-store --help'],
      [['migrate-store', 'postgres://h/db'], 'unexpected argument "postgres://h/db"; usage: pinak-memory migrate-store --from DIR --to postgres://… [options] (see pinak-memory migrate-store --help)'],
      [['keys', 'list', '--role', 'admin'], 'keys list does not take --role; see pinak-memory keys list --help'],
      [['keys', 'revoke', 'X', '--expires', '1d'], 'keys revoke does not take --expires; see pinak-memory keys revoke --help'],
      [['audit', 'export', '--namespace', 'x'], 'audit export does not take --namespace; see pinak-memory audit export --help'],
      [['audit', 'fingerprint', '--args', '{}', '--since', 'x'], 'audit fingerprint does not take --since; see pinak-memory audit fingerprint --help'],
      [['--output', 'x.jsonl'], 'serve does not take --output; see pinak-memory serve --help'],
      [['serve', '--version'], 'serve does not take --version; see pinak-memory serve --help'],
      [['export', '--frobnicate'], 'unknown option --frobnicate; see pinak-memory export --help'],
      [['export', '-x'], 'unknown option -x; see pinak-memory export --help'],
      [['export', '--output'], '--output needs a value; see pinak-memory export --help'],
      [['export', 'now'], 'unexpected argument "now"; usage: pinak-memory export [options] (see pinak-memory export --help)'],
      [['import'], 'usage: pinak-memory import FILE [options] (see pinak-memory import --help)'],
    ];
    for (const [args, message] of refused) {
      const run = runCli(['--data-dir', dir, ...args], {}, '');
      expect([args.join(' '), run.status, run.stdout, run.stderr]).toEqual([args.join(' '), 1, '', `pinak-memory: ${message}\n`]);
    }
    // Refused before anything was opened or written.
    expect(existsSync(join(dir, 'pinak.db'))).toBe(false);
    expect(existsSync(join(dir, 'keys.db'))).toBe(false);
  });

  it('refuses a bad setting with one clear line and exit code 1', () => {
    for (const [args, env, pattern] of [
      [['--max-content-bytes', 'lots'], {}, /--max-content-bytes/],
      [[], { PINAK_LOG_LEVEL: 'chatty' }, /PINAK_LOG_LEVEL/],
      [['--no-such-flag'], {}, /no-such-flag/],
      [['frobnicate'], {}, /unknown command "frobnicate"/],
    ] as const) {
      const run = runCli([...args, '--data-dir', tempDir()], env);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  });

  it('refuses a data directory it cannot create, in one line', () => {
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, 'x');
    const run = runCli(['--data-dir', join(blocker, 'sub')], {}, '');
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/cannot open the memory database/);
  });

  it('takes the data directory from PINAK_DATA_DIR', async () => {
    const dir = tempDir();
    const server = await spawnServer(dir);
    await callOk(server.client, 'remember', { content: 'env dir' });
    await server.close();
    const run = runCli(['audit', 'export'], { PINAK_DATA_DIR: dir });
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('exports the audit trail as JSONL, to stdout or a file, filtered by time', async () => {
    const dir = tempDir();
    const server = await spawnServer(dir);
    await callOk(server.client, 'remember', { content: 'audited' });
    await callOk(server.client, 'search_memory', { query: 'audited' });
    await server.close();

    const run = runCli(['audit', 'export', '--data-dir', dir]);
    expect(run.status).toBe(0);
    const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(rows.map((r) => r.tool)).toEqual(['remember', 'search_memory']);
    expect(rows[0]).toMatchObject({ status: 'ok', client_name: 'e2e-client' });
    expect(run.stdout).not.toContain('audited');

    const out = join(dir, 'audit.jsonl');
    expect(runCli(['audit', 'export', '--data-dir', dir, '--output', out]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(run.stdout);
    expect(runCli(['audit', 'export', '--data-dir', dir, '--since', '2999-01-01']).stdout).toBe('');
    expect(runCli(['audit', 'export', '--data-dir', dir, '--since', 'yesterday']).status).toBe(1);
  });
});
