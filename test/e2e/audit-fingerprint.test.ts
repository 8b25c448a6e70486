import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { auditOf, useHttpHarness } from '../helpers/http-harness.js';
import { rawRequest } from '../helpers/spawn-http.js';
import { runCli, spawnServer } from '../helpers/spawn-server.js';

const { tempDataDir, start, connect, defer } = useHttpHarness('pinak-fingerprint-', { args: ['--embed-model', 'none'] });

const SECRET_FILE = 'audit-fingerprint.key';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
/** The canonical JSON of a remember of this door code with one tag (keys sorted, as the server hashes them). */
const doorCodeArgs = (code: string): string => `{"content":"door code is ${code}","tags":["home"]}`;
const ARGS = { tags: ['home'], content: 'door code is 4821' };

/** `pinak-memory audit fingerprint`, from --args or stdin. */
function fingerprintCli(dir: string, args: { flag?: string; stdin?: string }): { status: number | null; stdout: string; stderr: string } {
  const run = runCli(['--data-dir', dir, 'audit', 'fingerprint', ...(args.flag === undefined ? [] : ['--args', args.flag])], {}, args.stdin ?? '');
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function rememberOverStdio(dir: string, args: Record<string, unknown>): Promise<void> {
  const server = await spawnServer(dir, ['--embed-model', 'none']);
  try {
    await callOk(server.client, 'remember', args);
  } finally {
    await server.close();
  }
}

describe('keyed audit fingerprints', () => {
  it('the fingerprint of a remember of a door code cannot be found by trying all 10^4 codes with SHA-256; audit fingerprint reproduces it; the secret file is 0600', async () => {
    const dir = tempDataDir();
    await rememberOverStdio(dir, ARGS);
    const row = auditOf(dir).find((r) => r.tool === 'remember')!;
    expect(row).toMatchObject({ status: 'ok', args_bytes: Buffer.byteLength(doorCodeArgs('4821')) });
    expect(row.args_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row.args_sha256).not.toBe(sha256(doorCodeArgs('4821')));
    const started = performance.now();
    const guesses = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, '0'));
    expect(guesses.filter((code) => sha256(doorCodeArgs(code)) === row.args_sha256)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5_000); // the attack is cheap: only the key stops it

    // Whoever holds the secret can still match a known request, in any key order, from a flag or stdin.
    expect(fingerprintCli(dir, { flag: '{"content":"door code is 4821","tags":["home"]}' })).toEqual({ status: 0, stdout: `${row.args_sha256}\n`, stderr: '' });
    expect(fingerprintCli(dir, { stdin: JSON.stringify(ARGS) })).toMatchObject({ status: 0, stdout: `${row.args_sha256}\n` });
    expect(fingerprintCli(dir, { flag: JSON.stringify({ ...ARGS, content: 'door code is 4822' }) }).stdout).not.toBe(`${row.args_sha256}\n`);

    const mode = statSync(join(dir, SECRET_FILE)).mode & 0o777;
    expect(mode.toString(8)).toBe('600');
    expect(readFileSync(join(dir, SECRET_FILE), 'latin1')).toMatch(/^[0-9a-f]{64}\n$/);
    // No temp file is left behind.
    expect(readdirSync(dir).filter((name) => name.includes(SECRET_FILE))).toEqual([SECRET_FILE]);
  });

  it('processes starting together on a new data directory share one secret: the same fingerprint for the same call, in every tenant and in refusal rows', async () => {
    const dir = tempDataDir();
    const acme = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const [one, two, http] = await Promise.all([
      spawnServer(dir, ['--embed-model', 'none']),
      spawnServer(dir, ['--embed-model', 'none']),
      start(dir),
    ]);
    defer(() => one.close());
    defer(() => two.close());
    await callOk(one.client, 'remember', ARGS);
    await callOk(two.client, 'remember', { content: ARGS.content, tags: ARGS.tags });
    const { client } = await connect(keyedClient(http.origin, acme.key));
    await callOk(client, 'remember', ARGS);
    expect((await rawRequest(http.port, { method: 'POST', path: '/mcp', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);

    const local = auditOf(dir);
    const remembered = [...local, ...auditOf(dir, 'acme')].filter((r) => r.tool === 'remember').map((r) => r.args_sha256);
    expect(remembered).toHaveLength(3);
    expect(new Set(remembered).size).toBe(1);
    expect(remembered[0]).not.toBe(sha256(doorCodeArgs('4821')));
    expect(fingerprintCli(dir, { flag: JSON.stringify(ARGS) }).stdout).toBe(`${remembered[0]}\n`);
    // A refused request is fingerprinted with the same key: its fingerprint is of the JSON string "POST /mcp".
    const refusal = local.find((r) => r.tool === 'http POST /mcp')!;
    expect(refusal.args_sha256).not.toBe(sha256('POST /mcp'));
    expect(fingerprintCli(dir, { flag: '"POST /mcp"' }).stdout).toBe(`${refusal.args_sha256}\n`);
  });

  it('many processes creating the secret of a new data directory at the same moment all read the one that was kept', async () => {
    const module = fileURLToPath(new URL('../../dist/audit/fingerprint-secret.js', import.meta.url));
    const load = (dir: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const script = `import { loadFingerprintSecret } from ${JSON.stringify(module)}; process.stdout.write(loadFingerprintSecret(process.argv[1], { create: true }).toString('hex'));`;
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      });
    const root = tempDataDir();
    for (let round = 0; round < 10; round++) {
      const dir = join(root, `fresh-${round}`);
      const secrets = await Promise.all(Array.from({ length: 6 }, () => load(dir)));
      const onDisk = readFileSync(join(dir, SECRET_FILE), 'latin1').trim();
      expect(secrets).toEqual(Array.from({ length: 6 }, () => onDisk));
      expect(readdirSync(dir)).toEqual([SECRET_FILE]);
    }
  });

  it('a damaged, unreadable or loosely readable secret file stops the start with one line, and is left as it was', async () => {
    const seeded = tempDataDir();
    await rememberOverStdio(seeded, ARGS);
    const good = readFileSync(join(seeded, SECRET_FILE), 'latin1');
    const cases: Array<[string, (file: string) => void, RegExp]> = [
      ['truncated', (file) => writeFileSync(file, good.slice(0, 40), { mode: 0o600 }), /is damaged \(expected 64 hex digits\); restore it from a backup, or delete it/],
      ['empty', (file) => writeFileSync(file, '', { mode: 0o600 }), /is damaged/],
      ['not hex', (file) => writeFileSync(file, `${'z'.repeat(64)}\n`, { mode: 0o600 }), /is damaged/],
      ['too long', (file) => writeFileSync(file, good.repeat(3), { mode: 0o600 }), /is damaged/],
      ['readable by others', (file) => { writeFileSync(file, good); chmodSync(file, 0o644); }, /is open to group or others \(mode 644\); run chmod 600 on it/],
      ['readable by the group', (file) => { writeFileSync(file, good); chmodSync(file, 0o640); }, /is open to group or others \(mode 640\)/],
      ['writable by the group', (file) => { writeFileSync(file, good); chmodSync(file, 0o620); }, /is open to group or others \(mode 620\)/],
      ['a directory', (file) => mkdirSync(file), /is not a regular file/],
    ];
    for (const [name, damage, message] of cases) {
      const dir = join(tempDataDir(), 'data');
      mkdirSync(dir);
      damage(join(dir, SECRET_FILE));
      const before = statSync(join(dir, SECRET_FILE));
      const contents = before.isFile() ? readFileSync(join(dir, SECRET_FILE), 'latin1') : null;
      for (const args of [['--embed-model', 'none'], ['--embed-model', 'none', '--transport', 'http', '--port', '0'], ['audit', 'fingerprint', '--args', '{}']]) {
        const run = runCli(['--data-dir', dir, ...args], {}, '');
        expect(run.status, `${name}: ${args.join(' ')}`).toBe(1);
        expect(run.stdout, name).toBe('');
        expect(run.stderr.trim().split('\n'), `${name}: ${run.stderr}`).toHaveLength(1);
        expect(run.stderr, name).toMatch(/^pinak-memory: the audit fingerprint secret \S+audit-fingerprint\.key /);
        expect(run.stderr, name).toMatch(message);
      }
      const after = statSync(join(dir, SECRET_FILE));
      expect(after.mode, name).toBe(before.mode);
      if (contents !== null) expect(readFileSync(join(dir, SECRET_FILE), 'latin1'), name).toBe(contents);
      // Not replaced either: no new secret, no temp file.
      expect(readdirSync(dir).filter((file) => file.includes(SECRET_FILE)), name).toEqual([SECRET_FILE]);
    }
    // A server start for each damaged file: seconds on a quiet machine, far more on a busy one.
  }, 90_000);

  it('audit fingerprint explains bad input and a data directory without a secret in one line', async () => {
    const dir = tempDataDir();
    const none = fingerprintCli(dir, { flag: '{}' });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^pinak-memory: no audit fingerprint secret in \S+ \(audit-fingerprint\.key\): no server has run on this data directory yet; check --data-dir\n$/);
    expect(readdirSync(dir)).toEqual([]);
    await rememberOverStdio(dir, { content: 'anything' });
    for (const bad of [{ flag: '{"content":' }, { flag: '' }, { stdin: 'not json' }, { stdin: '' }]) {
      const run = fingerprintCli(dir, bad);
      expect(run.status, JSON.stringify(bad)).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr, JSON.stringify(bad)).toMatch(/^pinak-memory: audit fingerprint: the arguments are not JSON \([^\n]*\); give the call's arguments object, e\.g\. --args '\{"content":"…"\}'\n$/);
    }
  });
});
