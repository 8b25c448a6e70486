import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { runCli, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-io-');
afterAll(() => temp.cleanup());

describe('import and export', () => {
  it('export then import into a fresh data directory loses nothing, and re-importing adds nothing', async () => {
    const source = join(temp.dir, 'source');
    const server = await spawnServer(source);
    const first = (await callOk(server.client, 'remember', {
      memories: [
        { content: 'Kira prefers tea', kind: 'preference', tags: ['kira'], metadata: { confidence: 0.7 }, importance: 0.9 },
        { content: 'Kira moved to Oslo', layer: 'episodic', kind: 'event', occurred_at: '2024-03-01T10:00:00Z', namespace: 'people' },
      ],
    })).stored;
    await callOk(server.client, 'remember', { content: 'Kira prefers coffee now', supersedes: first[0].id });
    await server.close();

    const file = join(temp.dir, 'export.jsonl');
    const exported = runCli(['export', '--data-dir', source, '--output', file]);
    expect(exported.status).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(runCli(['export', '--data-dir', source, '--namespace', 'people']).stdout.trim().split('\n')).toHaveLength(1);

    const target = join(temp.dir, 'target');
    const imported = runCli(['import', file, '--data-dir', target]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/imported 3 memories .* 0 already present, 0 failed/);
    const again = runCli(['import', file, '--data-dir', target]);
    expect(again.stderr).toMatch(/imported 0 memories .* 3 already present, 0 failed/);

    const roundTrip = join(temp.dir, 'round-trip.jsonl');
    runCli(['export', '--data-dir', target, '--output', roundTrip]);
    expect(readFileSync(roundTrip, 'utf8')).toBe(readFileSync(file, 'utf8'));

    const check = await spawnServer(target);
    const hits = (await callOk(check.client, 'search_memory', { query: 'Kira prefers', mode: 'keyword' })).hits.map((h: { id: string }) => h.id);
    expect(hits).toEqual([lines[2].id]);
    expect((await callOk(check.client, 'search_memory', { query: 'Kira Oslo', mode: 'vector', namespace: 'people' })).hits[0].id).toBe(first[1].id);
    await check.close();
  });

  it('imports plain remember inputs, reporting bad lines by number and keeping the rest', () => {
    const file = join(temp.dir, 'plain.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ content: 'plain one', tags: ['a'] }),
        '{not json',
        JSON.stringify({ content: '' }),
        '',
        JSON.stringify({ content: 'plain two', layer: 'procedural' }),
        JSON.stringify({ content: 'bad layer', layer: 'cosmic' }),
      ].join('\n'),
    );
    const dir = join(temp.dir, 'plain');
    const run = runCli(['import', file, '--data-dir', dir]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/plain\.jsonl:2: not valid JSON/);
    expect(run.stderr).toMatch(/plain\.jsonl:3: content/);
    expect(run.stderr).toMatch(/plain\.jsonl:6: layer/);
    expect(run.stderr).toMatch(/imported 2 memories .* 3 failed/);
    expect(runCli(['export', '--data-dir', dir]).stdout.trim().split('\n')).toHaveLength(2);
  });

  it('stores plain inputs in batches, not one transaction per line', () => {
    const file = join(temp.dir, 'many.jsonl');
    writeFileSync(file, Array.from({ length: 250 }, (_, i) => JSON.stringify({ content: `bulk line ${i}` })).join('\n'));
    const dir = join(temp.dir, 'many');
    const run = runCli(['import', file, '--data-dir', dir]);
    expect(run.stderr).toMatch(/imported 250 memories .* 0 failed/);
    // Each batch is one remember call, stamped with one time: 100 + 100 + 50.
    const created = runCli(['export', '--data-dir', dir]).stdout.trim().split('\n').map((line) => JSON.parse(line).created_at as string);
    expect(created).toHaveLength(250);
    expect(new Set(created).size).toBeLessThanOrEqual(3);
  });

  it('says clearly when the file cannot be read', () => {
    const run = runCli(['import', join(temp.dir, 'missing.jsonl'), '--data-dir', join(temp.dir, 'x')]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^pinak-memory: cannot read .*missing\.jsonl: ENOENT$/);
  });
});
