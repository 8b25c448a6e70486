import { readFileSync, writeFileSync } from 'node:fs';
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
