import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { runCli, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-read-');
afterAll(() => temp.cleanup());
const dir = join(temp.dir, 'data');
let goalIds: string[] = [];

const LONG = `The quarterly billing export ${'streams every invoice row to a CSV file and '.repeat(6)}then emails a signed link`;

beforeAll(async () => {
  const server = await spawnServer(dir);
  await callOk(server.client, 'remember', {
    memories: [
      { content: 'Kira prefers green tea in the morning', kind: 'preference', tags: ['kira'] },
      { content: 'Kira moved to Oslo in March 2024', layer: 'episodic', kind: 'event', namespace: 'people', tags: ['kira'] },
      { content: 'To deploy, run make release and tag the commit', layer: 'procedural', kind: 'howto', tags: ['deploy'] },
      { content: LONG, kind: 'fact', tags: ['billing'] },
      { content: 'Line one\nline two\twith a tab and a \u001b[31mcolour\u001b[0m code', kind: 'fact' },
    ],
  });
  const billing = (await callOk(server.client, 'remember_goal', { title: 'Ship the billing export', priority: 'high', plan: [{ title: 'Write the CSV writer' }, { title: 'Email the link' }] })).goal;
  await callOk(server.client, 'remember_goal', { goal_id: billing.id, step_updates: [{ step_id: billing.steps[0].id, status: 'done' }] });
  const norwegian = (await callOk(server.client, 'remember_goal', { title: 'Learn Norwegian', namespace: 'people' })).goal;
  await callOk(server.client, 'remember_goal', { goal_id: norwegian.id, status: 'abandoned' });
  goalIds = [billing.id, norwegian.id];
  await server.close();
}, 120_000);

const auditRows = (): number => runCli(['audit', 'export', '--data-dir', dir]).stdout.split('\n').filter((line) => line !== '').length;

describe('search, goals and stats on the command line', () => {
  it('answer as the tools do: --json is search_memory, list_goals and memory_stats\'s answer, with the server\'s settings', async () => {
    const cases: Array<[string[], Record<string, unknown>]> = [
      [['search', 'kira tea'], { query: 'kira tea' }],
      [['search', 'kira', '--namespace', '*'], { query: 'kira', namespace: '*' }],
      [['search', 'deploy release', '--layer', 'procedural,semantic', '--limit', '2'], { query: 'deploy release', layers: ['procedural', 'semantic'], limit: 2 }],
      [['search', 'billing', '--type', 'goal,step', '--mode', 'keyword'], { query: 'billing', types: ['goal', 'step'], mode: 'keyword' }],
      [['search', 'kira', '--tags', 'kira', '--namespace', 'people', '--kind', 'event'], { query: 'kira', tags_any: ['kira'], namespace: 'people', kinds: ['event'] }],
      [['search', ''], { query: '' }],
    ];
    const cli = cases.map(([args]) => {
      const run = runCli([...args, '--json', '--data-dir', dir]);
      expect([args.join(' '), run.status, run.stderr]).toEqual([args.join(' '), 0, '']);
      return JSON.parse(run.stdout);
    });
    const goals = JSON.parse(runCli(['goals', '--status', 'all', '--namespace', '*', '--json', '--data-dir', dir]).stdout);
    const stats = JSON.parse(runCli(['stats', '--json', '--data-dir', dir]).stdout);

    const server = await spawnServer(dir);
    try {
      for (const [i, [args, toolArgs]] of cases.entries()) expect(cli[i], args.join(' ')).toEqual(await callOk(server.client, 'search_memory', toolArgs));
      expect(cli[0].hits[0].snippet).toBe('Kira prefers green tea in the morning');
      expect(goals).toEqual(await callOk(server.client, 'list_goals', { statuses: ['active', 'achieved', 'failed', 'abandoned'], namespace: '*' }));
      expect(goals.goals.map((g: { id: string }) => g.id).sort()).toEqual([...goalIds].sort());
      const fromTool = await callOk(server.client, 'memory_stats');
      const stable = (s: Record<string, any>) => ({ ...s, database_bytes: 0, audit_rows: 0, embedding: { ...s.embedding, index_start: null } });
      expect(stable(stats)).toEqual(stable(fromTool));
      expect(stats.memories_total).toBe(5);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('prints aligned tables within 100 columns on a pipe, without ANSI codes, the text cut with …', () => {
    const run = runCli(['search', 'billing export invoice', '--data-dir', dir]);
    expect([run.status, run.stderr]).toEqual([0, '']);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^#  MATCH +KIND +DATE +NAMESPACE +TEXT$/);
    expect(run.stdout).not.toContain('\u001b');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    const textAt = lines[0]!.indexOf('TEXT');
    const long = lines.find((line) => line.includes('quarterly billing'))!;
    expect(long.indexOf('The quarterly')).toBe(textAt);
    expect(long.endsWith('…')).toBe(true);
    expect(long).toHaveLength(100);
    expect(lines.slice(1).every((line, i) => line.startsWith(`${i + 1}  `))).toBe(true);

    const odd = runCli(['search', 'line two tab colour', '--mode', 'keyword', '--data-dir', dir]).stdout;
    expect(odd).toContain('Line one line two with a tab and a [31mcolour[0m');
    expect(odd).not.toContain('\u001b');

    const goals = runCli(['goals', '--status', 'all', '--namespace', '*', '--data-dir', dir]);
    expect(goals.status).toBe(0);
    const rows = goals.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^STATUS +PRIORITY +STEPS +UPDATED +ID +TITLE$/);
    expect(rows.slice(1).map((row) => row.split(/ {2,}/))).toEqual([
      ['active', 'high', '1/2', expect.stringMatching(/^\d{4}-\d\d-\d\d$/), goalIds[0], 'Ship the billing export'],
      ['abandoned', 'normal', '0/0', expect.stringMatching(/^\d{4}-\d\d-\d\d$/), goalIds[1], 'Learn Norwegian'],
    ]);
    expect(runCli(['goals', '--data-dir', dir]).stdout.trimEnd().split('\n')).toHaveLength(2); // active in the default namespace

    const stats = runCli(['stats', '--data-dir', dir]);
    expect(stats.status).toBe(0);
    expect(stats.stdout).toMatch(/^memories +5 \(/m);
    expect(stats.stdout).toMatch(/^goals +(active 1, abandoned 1|abandoned 1, active 1)$/m);
    expect(stats.stdout).toMatch(/^embeddings +pinak\/static-glove-50k/m);
  }, 60_000);

  it('are not audited, as export is not: only tool calls are', () => {
    const before = auditRows();
    expect(runCli(['search', 'kira', '--data-dir', dir]).status).toBe(0);
    expect(runCli(['goals', '--data-dir', dir]).status).toBe(0);
    expect(runCli(['stats', '--data-dir', dir]).status).toBe(0);
    expect(auditRows()).toBe(before);
  }, 60_000);

  it('say when nothing matches, on stderr, with exit code 0', () => {
    const none = runCli(['search', 'zebra', '--mode', 'keyword', '--data-dir', dir]);
    expect([none.status, none.stdout, none.stderr]).toEqual([0, '', 'pinak-memory: no matches\n']);
    const goals = runCli(['goals', '--status', 'failed', '--data-dir', dir]);
    expect([goals.status, goals.stdout, goals.stderr]).toEqual([0, '', 'pinak-memory: no goals match\n']);
  }, 60_000);

  it('refuse bad options and a data directory without a database in one line, creating nothing', () => {
    const empty = join(temp.dir, 'empty');
    for (const [args, message] of [
      [['search'], 'usage: pinak-memory search QUERY [options] (see pinak-memory search --help)'],
      [['search', 'x', '--limit', 'ten'], '--limit takes a whole number, not "ten"'],
      [['search', 'x', '--limit', '1000'], '--limit: Too big: expected number to be <=100'],
      [['search', 'x', '--layer', 'cosmic'], '--layer: Invalid option: expected one of "semantic"|"episodic"|"procedural"'],
      [['search', 'x', '--mode', 'fuzzy'], '--mode: Invalid option: expected one of "hybrid"|"keyword"|"vector"'],
      [['goals', '--status', 'done'], '--status: Invalid option: expected one of "active"|"achieved"|"failed"|"abandoned"'],
      [['stats', '--limit', '3'], 'stats does not take --limit; see pinak-memory stats --help'],
      [['goals', 'now'], 'unexpected argument "now"; usage: pinak-memory goals [options] (see pinak-memory goals --help)'],
    ] as Array<[string[], string]>) {
      const run = runCli([...args, '--data-dir', dir]);
      expect([args.join(' '), run.status, run.stdout, run.stderr]).toEqual([args.join(' '), 1, '', `pinak-memory: ${message}\n`]);
    }
    const missing = runCli(['stats', '--data-dir', empty]);
    expect([missing.status, missing.stderr]).toEqual([1, `pinak-memory: no memory database in ${empty} (no ${join(empty, 'pinak.db')}); give the data directory with --data-dir or PINAK_DATA_DIR\n`]);
    expect(runCli(['search', 'x', '--data-dir', empty]).status).toBe(1);
  }, 60_000);
});
