import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seeded } from '../../scripts/bench/data.js';
import { Fake } from '../../scripts/eval/firewall-corpus.js';
import { callError, callOk } from '../helpers/calls.js';
import { runCli, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { spawnHttp } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(args: string[] = []): Promise<{ dir: string; server: Spawned }> {
  const temp = makeTempDir('pinak-secrets-');
  cleanups.push(temp.cleanup);
  const server = await spawnServer(temp.dir, args);
  cleanups.push(() => server.close());
  return { dir: temp.dir, server };
}

/** Every file under a directory, whole: the database, its write-ahead log, the vector index. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

/** The forms a secret could be found in: as sent, and its longest run of letters and digits lower-cased (as the keyword index keeps words). */
const formsOf = (secret: string): string[] => {
  const run = [...secret.matchAll(/[A-Za-z0-9]+/g)].map((m) => m[0]).sort((a, b) => b.length - a.length)[0]!;
  return [secret, run.toLowerCase()];
};

const textOf = (result: Record<string, unknown>): string => ((result['content'] ?? []) as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n');

describe('secrets in what agents write', () => {
  it('are stored as [redacted: kind] marks, and never reach the database files, the keyword index, the vectors, the logs or an export; the answer names the fields and kinds', async () => {
    const { dir, server } = await start();
    const fake = new Fake(seeded(41));
    const github = fake.github();
    const aws = fake.awsAccessKey();
    const password = fake.password();
    const card = fake.card().replace(/ /g, '');
    const pem = fake.privateKey();
    const lessonPassword = fake.password();
    const secrets = [github, aws, password, card, pem.split('\n')[2]!, lessonPassword];

    const stored = await callOk(server.client, 'remember', { content: `Deploy with ${github} and ${aws} tomorrow`, metadata: { password, note: `card ${card}` } });
    expect(stored.redacted).toEqual([
      { field: 'content', kinds: ['github-token', 'aws-access-key'] },
      { field: 'metadata.password', kinds: ['password'] },
      { field: 'metadata.note', kinds: ['card-number'] },
    ]);
    const raw = await server.client.callTool({ name: 'remember', arguments: { content: `Staging also uses ${github}` } });
    expect(textOf(raw)).toMatch(/secrets stored as \[redacted: …\] marks \(github-token\) in content/);

    const [memory] = (await callOk(server.client, 'get_memory', { ids: [stored.stored[0].id] })).memories;
    expect(memory.content).toBe('Deploy with [redacted: github-token] and [redacted: aws-access-key] tomorrow');
    expect(memory.metadata).toEqual({ password: '[redacted: password]', note: 'card [redacted: card-number]' });
    const { hits } = await callOk(server.client, 'search_memory', { query: 'deploy tomorrow' });
    expect(hits[0].id).toBe(stored.stored[0].id);

    const goal = await callOk(server.client, 'remember_goal', { title: 'Rotate the deploy key', description: `The old key:\n${pem}`, plan: [{ title: 'make a new key' }] });
    expect(goal.redacted).toEqual([{ field: 'description', kinds: ['private-key'] }]);
    expect(goal.goal.description).toBe('The old key:\n[redacted: private-key]');
    const outcome = await callOk(server.client, 'record_outcome', { goal_id: goal.goal.id, result: 'success', summary: 'Rotated.', lessons: [`never paste password: ${lessonPassword} in chat`] });
    expect(outcome.redacted).toEqual([{ field: 'lessons[0]', kinds: ['password'] }]);

    const exported = runCli(['--data-dir', dir, 'export']);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toContain('[redacted: github-token]');
    const log = server.stderr();
    await server.close();

    const files = filesUnder(dir);
    expect(files.map((f) => f.path).join('\n')).toMatch(/pinak\.db/);
    for (const secret of secrets) {
      for (const form of formsOf(secret)) {
        expect(files.filter((f) => f.bytes.includes(form)).map((f) => f.path), form).toEqual([]);
        expect(exported.stdout.includes(form), form).toBe(false);
        expect(log.includes(form), form).toBe(false);
      }
    }
  }, 60_000);

  it('a namespace that refuses them refuses the write (naming the field and kind, never the secret) and stores nothing; one that allows them stores them as sent', async () => {
    const { server } = await start(['--secrets-by-namespace', 'shared=refuse,vault=allow']);
    const fake = new Fake(seeded(42));
    const token = fake.npm();

    const refusal = await callError(server.client, 'remember', { content: `publish with ${token}`, namespace: 'shared' });
    expect(refusal).toMatch(/content holds what looks like a secret \(npm-token\); namespace "shared" refuses secrets/);
    expect(refusal).not.toContain(token);
    expect(await callError(server.client, 'remember_goal', { title: `publish with ${token}`, namespace: 'shared' })).toMatch(/title holds what looks like a secret/);
    expect((await callOk(server.client, 'search_memory', { query: 'publish', namespace: 'shared' })).hits).toEqual([]);
    expect((await callOk(server.client, 'memory_stats')).memories_total).toBe(0);

    const kept = await callOk(server.client, 'remember', { content: `publish with ${token}`, namespace: 'vault' });
    expect(kept.redacted).toBeUndefined();
    expect((await callOk(server.client, 'get_memory', { ids: [kept.stored[0].id] })).memories[0].content).toBe(`publish with ${token}`);
    // Other namespaces keep the default: redact.
    expect((await callOk(server.client, 'remember', { content: `publish with ${token}` })).redacted).toEqual([{ field: 'content', kinds: ['npm-token'] }]);
  }, 60_000);

  it('over HTTP with a key, as over stdio: the mark is stored, the answer says where, and the secret is in no file, log or audit row', async () => {
    const temp = makeTempDir('pinak-secrets-http-');
    cleanups.push(temp.cleanup);
    const { key } = createKey(temp.dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await spawnHttp(temp.dir, ['--embed-model', 'none', '--auth', 'keys']);
    cleanups.push(() => server.stop());
    const { client } = await keyedClient(server.origin, key);
    const token = new Fake(seeded(43)).slack();
    const stored = await callOk(client, 'remember', { content: `the bot posts with ${token}` });
    expect(stored.redacted).toEqual([{ field: 'content', kinds: ['slack-token'] }]);
    expect((await callOk(client, 'get_memory', { ids: [stored.stored[0].id] })).memories[0].content).toBe('the bot posts with [redacted: slack-token]');
    const log = server.stderr();
    await server.stop();
    for (const form of formsOf(token)) {
      expect(filesUnder(temp.dir).filter((f) => f.bytes.includes(form)).map((f) => f.path), form).toEqual([]);
      expect(log.includes(form), form).toBe(false);
    }
  }, 60_000);

  it('a bad --secrets or --secrets-by-namespace is one clear line and exit code 1', () => {
    for (const args of [['--secrets', 'maybe'], ['--secrets-by-namespace', 'vault'], ['--secrets-by-namespace', 'vault=sometimes']]) {
      const temp = makeTempDir('pinak-secrets-config-');
      cleanups.push(temp.cleanup);
      const result = runCli(['--data-dir', temp.dir, ...args]);
      expect(result.status, args.join(' ')).toBe(1);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toMatch(/secrets/);
      expect(result.stdout).toBe('');
    }
  });
});
