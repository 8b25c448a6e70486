import { LoggingMessageNotificationSchema, type LoggingMessageNotification } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { startEmbeddingService, type FakeEmbeddingService, type Provider } from '../helpers/embedding-service.js';
import { runCli, spawnRaw, spawnServer, type Spawned } from '../helpers/spawn-server.js';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { startPgliteServer } from '../helpers/pglite-server.js';
import { spawnHttp } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDataDir(): string {
  const { dir, cleanup } = makeTempDir('pinak-e2e-embed-');
  cleanups.push(cleanup);
  return dir;
}

async function service(provider: Provider, apiKey: string | null = null): Promise<FakeEmbeddingService> {
  const svc = await startEmbeddingService(provider, apiKey);
  cleanups.push(() => svc.stop());
  return svc;
}

async function start(dataDir: string, args: string[]): Promise<Spawned> {
  const server = await spawnServer(dataDir, args);
  cleanups.push(() => server.close());
  return server;
}

const serviceArgs = (svc: FakeEmbeddingService, more: string[] = []): string[] => [
  '--embed-provider', svc.provider, '--embed-url', svc.url, ...(svc.provider === 'tei' ? [] : ['--embed-model', 'mini-embed']), ...more,
];

/** Ask memory_stats until `done` holds (or fail after `ms`). */
async function until(client: Spawned['client'], done: (embedding: Record<string, any>) => boolean, ms: number): Promise<Record<string, any>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { embedding } = await callOk(client, 'memory_stats');
    if (done(embedding)) return embedding;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${JSON.stringify(embedding)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const SENTENCES = [
  'The kitten was sleeping on the warm rug by the fireplace',
  'Quarterly revenue grew by ten percent after the product launch',
  'We hiked up the mountain trail and camped beside a lake',
  'The doctor recommended more sleep and less coffee',
  'Our flight to Tokyo was delayed by three hours',
];

describe.each(['openai', 'ollama', 'tei'] as const)('pinak-memory with --embed-provider %s', (provider) => {
  it('embeds through the service, and hybrid search finds a memory by meaning alone', async () => {
    const key = provider === 'openai' ? 'sk-e2e-secret-7f3a' : null;
    const svc = await service(provider, key);
    const { client, stderr } = await start(tempDataDir(), serviceArgs(svc, key === null ? [] : ['--embed-api-key', key]));
    const ids = (await callOk(client, 'remember', { memories: SENTENCES.map((content) => ({ content })) })).stored.map((m: { id: string }) => m.id);
    const { embedding } = await callOk(client, 'memory_stats');
    expect(embedding).toMatchObject({ model_id: `${provider}:${provider === 'tei' ? 'default' : 'mini-embed'}`, dimension: 100, note: null, records: 5, embedded: 5 });

    // No word in common with the stored sentence: only the vector leg can find it.
    const byMeaning = await callOk(client, 'search_memory', { query: 'a cat napping on a carpet', mode: 'vector', limit: 1 });
    expect(byMeaning.hits[0].id).toBe(ids[0]);
    const hybrid = await callOk(client, 'search_memory', { query: 'airplane departure postponed' });
    expect(hybrid.mode).toBe('hybrid');
    expect(hybrid.hits[0].id).toBe(ids[4]);
    expect(hybrid.hits[0].why.keyword_rank).toBeNull();
    expect(stderr()).toContain('embedding service identified');
    if (key !== null) expect(stderr()).not.toContain(key);
  });
});

describe('an embedding service that goes away', () => {
  it('keeps every write while it is down, answers searches from the keyword index, and embeds what was queued once it is back', async () => {
    const svc = await service('ollama');
    const { client, stderr } = await start(tempDataDir(), serviceArgs(svc, ['--embed-timeout-ms', '1000']));
    await callOk(client, 'remember', { content: 'The kitten was sleeping on the warm rug by the fireplace' });
    await svc.stop();

    const stored = await callOk(client, 'remember', { content: 'Our flight to Tokyo was delayed by three hours' });
    expect(stored.stored).toHaveLength(1);
    const during = await callOk(client, 'search_memory', { query: 'flight delayed' });
    expect(during).toMatchObject({ mode: 'keyword', note: expect.stringMatching(/^vector search failed just now \(the embedding service \(ollama\) .*\); these are keyword results$/) });
    expect(during.hits[0].id).toBe(stored.stored[0].id);
    const down = await callOk(client, 'memory_stats');
    expect(down.embedding).toMatchObject({ records: 2, embedded: 1, note: expect.stringMatching(/could not be reached|unavailable/) });

    await svc.start();
    const after = await until(client, (e) => e.embedded === 2, 30_000);
    expect(after.note).toBeNull();
    const byMeaning = await callOk(client, 'search_memory', { query: 'airplane departure postponed', mode: 'vector', limit: 1 });
    expect(byMeaning.hits[0].id).toBe(stored.stored[0].id);
    expect(stderr()).toContain('storing without vectors for now');
  }, 60_000);

  it('starts without it, keyword only, says so, and switches to hybrid search when it answers', async () => {
    const svc = await service('openai');
    await svc.stop();
    const dataDir = tempDataDir();
    const startedAt = Date.now();
    const { client, stderr } = await start(dataDir, serviceArgs(svc));
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    const waiting = await callOk(client, 'memory_stats');
    expect(waiting.embedding).toMatchObject({ model_id: null, note: expect.stringMatching(/^waiting for the embedding service \(openai\) to answer: could not be reached/) });
    // The client is told too (notifications/message), as long as the service is away: logging/setLevel resends the standing notices.
    const messages: LoggingMessageNotification['params'][] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void messages.push(notification.params));
    await client.setLoggingLevel('info');
    expect(messages).toContainEqual(expect.objectContaining({ level: 'warning', data: expect.stringMatching(/^waiting for the embedding service \(openai\)/) }));
    expect(JSON.stringify(messages)).not.toContain(svc.url);
    const ids = (await callOk(client, 'remember', { memories: SENTENCES.map((content) => ({ content })) })).stored.map((m: { id: string }) => m.id);
    const keywordOnly = await callOk(client, 'search_memory', { query: 'flight delayed' });
    expect(keywordOnly).toMatchObject({ mode: 'keyword', note: expect.stringMatching(/^vector search is unavailable \(waiting for the embedding service .*\); these are keyword results$/) });
    expect(keywordOnly.hits[0].id).toBe(ids[4]);

    await svc.start();
    const ready = await until(client, (e) => e.model_id === 'openai:mini-embed' && e.embedded === 5, 40_000);
    expect(ready).toMatchObject({ records: 5, dimension: 100, note: null });
    messages.length = 0;
    await client.setLoggingLevel('info');
    expect(JSON.stringify(messages)).not.toContain('waiting for the embedding service');
    const hybrid = await callOk(client, 'search_memory', { query: 'airplane departure postponed' });
    expect(hybrid.mode).toBe('hybrid');
    expect(hybrid.hits[0].id).toBe(ids[4]);
    expect(stderr()).toContain('the embedding service cannot be used yet');
    expect(stderr()).toContain('hybrid search from now on');
  }, 90_000);

  it('starts within seconds when the service hangs, and shuts down without waiting for its timeouts', async () => {
    const svc = await service('ollama');
    svc.always = { kind: 'slow', ms: 60_000 };
    const startedAt = Date.now();
    const server = await spawnServer(tempDataDir(), serviceArgs(svc, ['--embed-timeout-ms', '20000']));
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect((await callOk(server.client, 'memory_stats')).embedding).toMatchObject({ model_id: null, note: expect.stringMatching(/^waiting for the embedding service/) });
    const remembered = await callOk(server.client, 'remember', { content: 'stored while the service hangs' });
    expect(remembered.stored).toHaveLength(1);

    // Shutdown on stdin closing, by the server alone (the SDK client would kill it after 2 s).
    const child = spawnRaw(['--data-dir', tempDataDir(), ...serviceArgs(svc, ['--embed-timeout-ms', '20000'])], { PINAK_LOG_LEVEL: 'info' });
    cleanups.push(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    while (!stderr.includes('serving MCP over stdio')) await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = Date.now();
    child.stdin.end();
    expect(await exit).toBe(0);
    expect(Date.now() - closing).toBeLessThan(5000);
  }, 60_000);

  it('keeps the model\'s key across restarts, so nothing is embedded twice', async () => {
    const svc = await service('tei');
    const dataDir = tempDataDir();
    const first = await spawnServer(dataDir, serviceArgs(svc));
    await callOk(first.client, 'remember', { content: 'The doctor recommended more sleep and less coffee' });
    const key = (await callOk(first.client, 'memory_stats')).embedding.model_key;
    await first.close();
    const before = svc.requests.length;
    const second = await start(dataDir, serviceArgs(svc));
    const { embedding } = await callOk(second.client, 'memory_stats');
    expect(embedding).toMatchObject({ model_key: key, records: 1, embedded: 1 });
    // Only the identification's probes were sent (twice: are the answers stable?).
    expect(svc.requests.slice(before).map((r) => (r.body.inputs as string[]).length)).toEqual([3, 3]);
  });
});

describe('an embedding service and tenants over HTTP', () => {
  it('a tenant opened while the service is down waits for it too, and gets hybrid search when it answers', async () => {
    const svc = await service('ollama');
    await svc.stop();
    const dataDir = tempDataDir();
    const { key } = createKey(dataDir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await spawnHttp(dataDir, serviceArgs(svc));
    cleanups.push(() => void server.stop());
    const { client } = await keyedClient(server.origin, key);
    cleanups.push(() => client.close());
    const ids = (await callOk(client, 'remember', { memories: SENTENCES.map((content) => ({ content })) })).stored.map((m: { id: string }) => m.id);
    expect((await callOk(client, 'memory_stats')).embedding).toMatchObject({ model_id: null, note: expect.stringContaining('waiting for the embedding service (ollama)') });
    await svc.start();
    await until(client, (e) => e.model_id === 'ollama:mini-embed' && e.embedded === 5, 40_000);
    const byMeaning = await callOk(client, 'search_memory', { query: 'a cat napping on a carpet', mode: 'vector', limit: 1 });
    expect(byMeaning.hits[0].id).toBe(ids[0]);
    expect(server.stderr()).not.toContain('"level":50');
  }, 90_000);
});

describe('an embedding service beside PostgreSQL with pgvector (PGlite)', () => {
  it('starts keyword only while the service is down, then registers its model, builds its index and embeds what was stored', async () => {
    const pglite = await startPgliteServer();
    cleanups.push(() => pglite.stop());
    const svc = await service('tei');
    await svc.stop();
    // PGlite runs every client in one session: one connection for the store's pool.
    const { client } = await start(tempDataDir(), ['--database-url', pglite.url, '--database-pool-size', '1', ...serviceArgs(svc)]);
    const ids = (await callOk(client, 'remember', { memories: SENTENCES.map((content) => ({ content })) })).stored.map((m: { id: string }) => m.id);
    expect(await callOk(client, 'search_memory', { query: 'flight delayed' })).toMatchObject({ mode: 'keyword', note: expect.stringContaining('waiting for the embedding service (tei)') });
    await svc.start();
    await until(client, (e) => e.model_id === 'tei:default' && e.embedded === 5, 40_000);
    const byMeaning = await callOk(client, 'search_memory', { query: 'a cat napping on a carpet', mode: 'vector', limit: 1 });
    expect(byMeaning.hits[0].id).toBe(ids[0]);
  }, 90_000);
});

describe('bad embedding settings', () => {
  it.each([
    [['--embed-provider', 'openai', '--embed-model', 'text-embedding-3-small'], /needs the service's address: set --embed-url/],
    [['--embed-provider', 'ollama', '--embed-url', 'http://127.0.0.1:11434'], /needs the service's model name/],
    [['--embed-url', 'http://127.0.0.1:11434'], /--embed-url is for an embedding service/],
    [['--embed-provider', 'openai', '--embed-url', 'file:///etc/passwd', '--embed-model', 'm'], /expected an http:\/\/ or https:\/\/ URL/],
  ])('%j: one clear line and exit code 1', (args, message) => {
    const run = runCli(['--data-dir', tempDataDir(), ...args]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });
});

describe('pinak-memory reindex with an embedding service that does not answer', () => {
  it('says that the service has not answered, not that vectors are turned off', async () => {
    const svc = await service('ollama');
    await svc.stop();
    const run = runCli(['--data-dir', tempDataDir(), 'reindex', ...serviceArgs(svc)]);
    expect(run.status).toBe(1);
    // The log (stderr, JSON) names the service's address; the message the user reads names the provider.
    const message = run.stderr.trim().split('\n').at(-1) ?? '';
    expect(message).toMatch(/no embedding model is active \(waiting for the embedding service \(ollama\) to answer: .*\); nothing to reindex/);
    expect(message).not.toContain('embed model "none"');
    expect(message).not.toContain(svc.url);
  });
});
