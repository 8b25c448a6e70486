import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { runCli, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const SERVER_MEMORY = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-memory/dist/index.js');

const temp = makeTempDir('pinak-graph-');
afterAll(() => temp.cleanup());

/** The reference memory server over stdio, its graph in `file`. */
async function referenceServer(file: string): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER_MEMORY], env: { PATH: process.env.PATH ?? '', MEMORY_FILE_PATH: file }, stderr: 'ignore' });
  const client = new Client({ name: 'graph-writer', version: '0.0.1' });
  await client.connect(transport);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>): Promise<void> => {
  const result = await client.callTool({ name, arguments: args });
  expect(result.isError, `${name}: ${JSON.stringify(result.content)}`).toBeFalsy();
};

describe('import --from server-memory', () => {
  it('turns the graph the reference server wrote into memories search_memory finds; importing again stores nothing twice', async () => {
    const graph = join(temp.dir, 'memory.jsonl');
    const reference = await referenceServer(graph);
    await call(reference, 'create_entities', {
      entities: [
        { name: 'Kira Varga', entityType: 'person', observations: ['Prefers green tea in the morning', 'Speaks Hungarian and Norwegian'] },
        { name: 'Acme Robotics', entityType: 'organization', observations: ['Builds warehouse robots'] },
        { name: 'Oslo', entityType: 'city', observations: [] },
      ],
    });
    await call(reference, 'create_relations', { relations: [{ from: 'Kira Varga', to: 'Acme Robotics', relationType: 'works_at' }, { from: 'Kira Varga', to: 'Oslo', relationType: 'lives_in' }] });
    await call(reference, 'add_observations', { observations: [{ entityName: 'Kira Varga', contents: ['Allergic to peanuts'] }] });
    await reference.close();
    const lines = readFileSync(graph, 'utf8').split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.type)).toEqual(['entity', 'entity', 'entity', 'relation', 'relation']);

    const dir = join(temp.dir, 'data');
    const first = runCli(['import', graph, '--from', 'server-memory', '--data-dir', dir]);
    // 3 entities, 4 observations, 2 relations.
    expect([first.status, first.stderr]).toEqual([0, `pinak-memory: imported 9 memories, 0 goals and 0 outcomes from ${graph}; 0 already present, 0 failed\n`]);
    const again = runCli(['import', graph, '--from', 'server-memory', '--data-dir', dir]);
    expect([again.status, again.stderr]).toEqual([0, `pinak-memory: imported 0 memories, 0 goals and 0 outcomes from ${graph}; 9 already present, 0 failed\n`]);

    // The graph grows: a new observation and relation are imported, the rest skipped.
    const more = await referenceServer(graph);
    await call(more, 'add_observations', { observations: [{ entityName: 'Acme Robotics', contents: ['Opened an office in Oslo in 2024'] }] });
    await call(more, 'create_relations', { relations: [{ from: 'Acme Robotics', to: 'Oslo', relationType: 'has_office_in' }] });
    await more.close();
    const grown = runCli(['import', graph, '--from', 'server-memory', '--data-dir', dir]);
    expect([grown.status, grown.stderr]).toEqual([0, `pinak-memory: imported 2 memories, 0 goals and 0 outcomes from ${graph}; 9 already present, 0 failed\n`]);

    const server = await spawnServer(dir);
    try {
      const tea = (await callOk(server.client, 'search_memory', { query: 'what does Kira drink in the morning' })).hits;
      expect(tea[0]).toMatchObject({ snippet: 'Kira Varga: Prefers green tea in the morning', layer: 'semantic', kind: 'observation', tags: ['Kira Varga', 'person'] });
      const peanuts = (await callOk(server.client, 'search_memory', { query: 'peanuts allergy', mode: 'keyword' })).hits;
      expect(peanuts.map((h: { snippet: string }) => h.snippet)).toEqual(['Kira Varga: Allergic to peanuts']);
      const work = (await callOk(server.client, 'search_memory', { query: 'where does Kira work', kinds: ['relation'] })).hits;
      expect(work[0].snippet).toBe('Kira Varga works at Acme Robotics');
      const acme = (await callOk(server.client, 'search_memory', { query: '', tags_all: ['Acme Robotics'], limit: 20 })).hits;
      expect(acme.map((h: { snippet: string }) => h.snippet).sort()).toEqual([
        'Acme Robotics (organization)',
        'Acme Robotics has office in Oslo',
        'Acme Robotics: Builds warehouse robots',
        'Acme Robotics: Opened an office in Oslo in 2024',
        'Kira Varga works at Acme Robotics',
      ]);
      const { memories } = await callOk(server.client, 'get_memory', { ids: [work[0].id] });
      expect(memories[0]).toMatchObject({
        source: 'server-memory',
        metadata: { server_memory: { from: 'Kira Varga', to: 'Acme Robotics', relation_type: 'works_at' } },
      });
      const observation = (await callOk(server.client, 'get_memory', { ids: [tea[0].id] })).memories[0];
      expect(observation.metadata).toEqual({ server_memory: { entity: 'Kira Varga', entity_type: 'person', observation: 'Prefers green tea in the morning' } });
      expect((await callOk(server.client, 'memory_stats')).by_kind).toEqual({ observation: 5, relation: 3, entity: 3 });
    } finally {
      await server.close();
    }
  }, 120_000);

  it('reports each malformed line with its number, imports the rest, and exits with 1', () => {
    const graph = join(temp.dir, 'bad.jsonl');
    writeFileSync(
      graph,
      [
        JSON.stringify({ type: 'entity', name: 'Ana', entityType: 'person', observations: ['Runs marathons'] }),
        '{"type": "entity", "name": "Broken"',
        JSON.stringify({ type: 'entity', name: 'Ben', entityType: 'person', observations: 'plays chess' }),
        JSON.stringify({ type: 'relation', from: 'Ana', to: '', relationType: 'knows' }),
        JSON.stringify({ type: 'note', text: 'not a graph record' }),
        JSON.stringify({ name: 'no type' }),
        '[1, 2]',
        '',
        JSON.stringify({ type: 'relation', from: 'Ana', to: 'Ben', relationType: 'knows' }),
      ].join('\n'),
    );
    const dir = join(temp.dir, 'bad-data');
    const run = runCli(['import', graph, '--from', 'server-memory', '--data-dir', dir, '--embed-model', 'none']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      `pinak-memory: ${graph}:2: not valid JSON`,
      `pinak-memory: ${graph}:3: not a server-memory entity: observations: Invalid input: expected array, received string`,
      `pinak-memory: ${graph}:4: not a server-memory relation: to: must not be empty`,
      `pinak-memory: ${graph}:5: not a server-memory record: "type" must be "entity" or "relation", not "note"`,
      `pinak-memory: ${graph}:6: not a server-memory record: "type" must be "entity" or "relation"`,
      `pinak-memory: ${graph}:7: not a JSON object; each line holds one record`,
      `pinak-memory: imported 3 memories, 0 goals and 0 outcomes from ${graph}; 0 already present, 6 failed`,
    ]);
    // Fixed, the file imports the rest; what was imported is not imported twice.
    writeFileSync(graph, `${JSON.stringify({ type: 'entity', name: 'Ana', entityType: 'person', observations: ['Runs marathons'] })}\n`);
    appendFileSync(graph, `${JSON.stringify({ type: 'entity', name: 'Ben', entityType: 'person', observations: ['Plays chess'] })}\n`);
    const fixed = runCli(['import', graph, '--from', 'server-memory', '--data-dir', dir, '--embed-model', 'none']);
    expect([fixed.status, fixed.stderr]).toEqual([0, `pinak-memory: imported 2 memories, 0 goals and 0 outcomes from ${graph}; 2 already present, 0 failed\n`]);
  }, 60_000);

  it('puts the graph in the namespace given, apart from the same graph in another', async () => {
    const graph = join(temp.dir, 'ns.jsonl');
    writeFileSync(graph, JSON.stringify({ type: 'entity', name: 'Ana', entityType: 'person', observations: ['Runs marathons'] }));
    const dir = join(temp.dir, 'ns-data');
    for (const namespace of ['alpha', 'beta']) {
      const run = runCli(['import', graph, '--from', 'server-memory', '--namespace', namespace, '--data-dir', dir, '--embed-model', 'none']);
      expect([run.status, run.stderr]).toEqual([0, `pinak-memory: imported 2 memories, 0 goals and 0 outcomes from ${graph}; 0 already present, 0 failed\n`]);
    }
    const search = JSON.parse(runCli(['search', 'marathons', '--namespace', '*', '--json', '--data-dir', dir, '--embed-model', 'none']).stdout);
    expect(search.hits.map((h: { namespace: string }) => h.namespace).sort()).toEqual(['alpha', 'beta']);
  }, 60_000);

  it('refuses an unknown format in one line', () => {
    const run = runCli(['import', join(temp.dir, 'x.jsonl'), '--from', 'mem0', '--data-dir', join(temp.dir, 'none')]);
    expect([run.status, run.stdout]).toEqual([1, '']);
    expect(run.stderr).toBe('pinak-memory: --from "mem0": the formats are pinak-memory (an export, or remember inputs) and server-memory (the knowledge graph of @modelcontextprotocol/server-memory)\n');
  });
});
