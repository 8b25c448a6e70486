import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { LoggingMessageNotificationSchema, type LoggingMessageNotification, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, keyedClient } from '../helpers/auth-clients.js';
import { callOk } from '../helpers/calls.js';
import { useHttpHarness } from '../helpers/http-harness.js';
import { adminQuery, freshDatabase, type FreshDatabase } from '../helpers/postgres.js';
import { spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** A model that does not exist here: the server falls back to the bundled one, and says so. */
const MISSING_MODEL = ['--embed-model', 'Xenova/no-such-model'];

/** Collect the notifications/message a client is sent. */
function messagesOf(client: Client): LoggingMessageNotification['params'][] {
  const seen: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    seen.push(notification.params);
  });
  return seen;
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The progress reports of the next call, as they reach the client's transport, in order, with a check that
 * each came before the call's answer and for its token. Read at the transport, not through onprogress: the
 * SDK client runs notification handlers a microtask late but takes an answer at once, so a last report that
 * arrives in the same chunk as its answer would be dropped by the client, though the server sent it first.
 */
function progressOnTheWire(client: Client): { reports(): Progress[] } {
  const transport = client.transport!;
  const deliver = transport.onmessage!;
  const seen: Array<{ token: unknown; report: Progress } | { answered: unknown }> = [];
  transport.onmessage = (message, extra) => {
    const m = message as { method?: string; id?: unknown; params?: Progress & { progressToken?: unknown } };
    if (m.method === 'notifications/progress' && m.params) {
      const { progressToken, ...report } = m.params;
      seen.push({ token: progressToken, report: report as Progress });
    } else if (m.method === undefined && m.id !== undefined) seen.push({ answered: m.id });
    deliver.call(transport, message, extra);
  };
  return {
    /** The reports since the last call to this, which must all precede the answer they belong to. */
    reports() {
      const answer = seen.findIndex((entry) => 'answered' in entry && seen.slice(0, seen.indexOf(entry)).some((e) => 'token' in e && e.token === entry.answered));
      const upTo = answer < 0 ? seen.length : answer;
      const before = seen.slice(0, upTo).filter((e): e is { token: unknown; report: Progress } => 'token' in e);
      const after = seen.slice(upTo + 1).filter((e) => 'token' in e);
      expect(after, 'progress after its answer').toEqual([]);
      if (answer >= 0) for (const entry of before) expect(entry.token).toBe((seen[answer] as { answered: unknown }).answered);
      seen.length = 0;
      return before.map((entry) => entry.report);
    },
  };
}

/** Progress reports of one call, in the order received; and checks they are well formed. */
function expectOrdered(reports: Progress[], total: number): void {
  expect(reports.length).toBeGreaterThan(1);
  for (let i = 1; i < reports.length; i++) expect(reports[i]!.progress).toBeGreaterThan(reports[i - 1]!.progress);
  for (const report of reports) expect(report.total).toBe(total);
  expect(reports.at(-1)!.progress).toBe(total);
}

const batch = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ content: `${tag} item ${i} about the release checklist` }));

describe('MCP logging over stdio', () => {
  it('tells a client of the embedding model fallback when it is initialized, and after logging/setLevel only at or above the level set', async () => {
    const temp = makeTempDir('pinak-logging-');
    const server = await spawnServer(temp.dir, MISSING_MODEL);
    try {
      const seen = messagesOf(server.client);
      await until(() => seen.length > 0, 'the fallback warning');
      expect(seen[0]).toEqual({ level: 'warning', logger: 'pinak-memory', data: 'embedding model: model "Xenova/no-such-model" could not be loaded; using the bundled model' });
      // No file path of the server is shown to the client.
      expect(JSON.stringify(seen)).not.toMatch(/node_modules|config\.json/);

      seen.length = 0;
      expect(await server.client.setLoggingLevel('error')).toEqual({});
      await callOk(server.client, 'search_memory', { query: 'anything' });
      expect(seen).toEqual([]);
      await server.client.setLoggingLevel('warning');
      expect(seen.map((m) => m.level)).toEqual(['warning']);
      await expect(server.client.setLoggingLevel('loud' as never)).rejects.toThrow(
        /-32602: logging\/setLevel needs params\.level, one of debug, info, notice, warning, error, critical, alert, emergency; got "loud"/,
      );
    } finally {
      await server.close();
      temp.cleanup();
    }
  }, 60_000);

  it('tells a client the vector index was rebuilt after a crash left no snapshot', async () => {
    const temp = makeTempDir('pinak-logging-');
    const first = await spawnServer(temp.dir);
    await callOk(first.client, 'remember', { memories: batch(5, 'crash') });
    // Killed before any snapshot is written: the next start rebuilds the index from the database.
    process.kill(first.transport.pid!, 'SIGKILL');
    await first.close().catch(() => {});
    const second = await spawnServer(temp.dir);
    try {
      const seen = messagesOf(second.client);
      await second.client.setLoggingLevel('warning');
      await until(() => seen.some((m) => String(m.data).includes('vector index')), 'the rebuild warning');
      expect(seen.find((m) => String(m.data).includes('vector index'))).toEqual({
        level: 'warning',
        logger: 'pinak-memory',
        data: 'the vector index was rebuilt from the database (5 vectors; it had no snapshot): until its graph catches up, vector searches scan exactly and may be slower',
      });
    } finally {
      await second.close();
      temp.cleanup();
    }
  }, 60_000);
});

describe('MCP progress over stdio', () => {
  it('a batch remember with a progress token reports every 10 items and the store, in order; a search with context reports start and end; without a token nothing is sent', async () => {
    const temp = makeTempDir('pinak-progress-');
    const server = await spawnServer(temp.dir);
    const stray: Error[] = [];
    // A progress notification for a token the client did not send would land here.
    server.client.onerror = (error) => stray.push(error);
    try {
      const wire = progressOnTheWire(server.client);
      const result = await server.client.callTool({ name: 'remember', arguments: { memories: batch(25, 'progress') } }, undefined, { onprogress: () => {} });
      expect(result.isError).toBeFalsy();
      const reports = wire.reports();
      expect(reports.map((r) => r.progress)).toEqual([0, 10, 20, 25, 26]);
      expectOrdered(reports, 26);
      expect(reports.at(-1)!.message).toBe('stored 25 memories');

      await server.client.callTool({ name: 'search_memory', arguments: { query: 'release checklist', context: 1 } }, undefined, { onprogress: () => {} });
      const searched = wire.reports();
      expect(searched.map((r) => [r.progress, r.total])).toEqual([[0, 1], [1, 1]]);
      expect(searched[1]!.message).toMatch(/^found \d+ hits?$/);

      // A search without context is quick: nothing to report, even when asked.
      await server.client.callTool({ name: 'search_memory', arguments: { query: 'release checklist' } }, undefined, { onprogress: () => {} });
      expect(wire.reports()).toEqual([]);

      // Without a token: the same answers, no notifications at all.
      await callOk(server.client, 'remember', { memories: batch(12, 'quiet') });
      await callOk(server.client, 'search_memory', { query: 'release checklist', context: 2 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(wire.reports()).toEqual([]);
      // The client heard of no token it did not send (a late report the SDK client drops also lands here: see progressOnTheWire).
      expect(stray.filter((error) => !/unknown token/.test(error.message))).toEqual([]);
    } finally {
      await server.close();
      temp.cleanup();
    }
  }, 60_000);
});

describe('MCP logging and progress over HTTP', () => {
  const harness = useHttpHarness('pinak-notify-http-');

  it('sessions in the process: setLevel answers with the standing warning on its stream, and a writer key gets progress', async () => {
    const dir = harness.tempDataDir();
    const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer']);
    const server = await harness.start(dir, ['--auth', 'keys', ...MISSING_MODEL]);
    const { client } = await harness.connect(keyedClient(server.origin, writer.key));
    const seen = messagesOf(client);
    await client.setLoggingLevel('warning');
    await until(() => seen.length > 0, 'the fallback warning');
    expect(seen.at(-1)).toMatchObject({ level: 'warning', data: expect.stringMatching(/could not be loaded; using the bundled model$/) });
    seen.length = 0;
    await client.setLoggingLevel('error');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual([]);

    const wire = progressOnTheWire(client);
    await client.callTool({ name: 'remember', arguments: { memories: batch(15, 'http') } }, undefined, { onprogress: () => {} });
    expect(wire.reports().map((r) => r.progress)).toEqual([0, 10, 15, 16]);
  }, 60_000);

  describe('sessions in the database', () => {
    let database: FreshDatabase;
    beforeAll(async () => {
      database = await freshDatabase();
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('a POST with a progress token is answered as a stream carrying its progress; the level a client sets is kept with its session', async () => {
      const dir = harness.tempDataDir();
      const onDatabase = ['--database-url', database.url];
      const writer = createKey(dir, ['--tenant', 'acme', '--role', 'writer', ...onDatabase]);
      const server = await harness.start(dir, ['--auth', 'keys', '--embed-model', 'none', ...onDatabase]);
      const { client, transport } = await harness.connect(keyedClient(server.origin, writer.key));
      const wire = progressOnTheWire(client);
      const result = await client.callTool({ name: 'remember', arguments: { memories: batch(21, 'shared') } }, undefined, { onprogress: () => {} });
      expect(result.isError).toBeFalsy();
      const reports = wire.reports();
      expect(reports.map((r) => r.progress)).toEqual([0, 10, 20, 21, 22]);
      expectOrdered(reports, 22);

      const levelOf = async (): Promise<string | null> =>
        (await adminQuery<{ log_level: string | null }>('SELECT log_level FROM pinak_auth.http_sessions WHERE id = $1', [transport.sessionId], database.url)).rows[0]!.log_level;
      expect(await levelOf()).toBeNull();
      expect(await client.setLoggingLevel('error')).toEqual({});
      expect(await levelOf()).toBe('error');
      // Every other request of the session still answers as one JSON body.
      await callOk(client, 'search_memory', { query: 'shared item' });
    }, 60_000);
  });
});
