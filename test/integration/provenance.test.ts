import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seeded } from '../../scripts/bench/data.js';
import { Fake } from '../../scripts/eval/firewall-corpus.js';
import type { Principal } from '../../src/domain/principal.js';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer({ embedder: true, secretsByNamespace: [['shared', 'refuse']] });
});
afterEach(async () => {
  await linked.close();
});

const writer: Principal = { id: 'key_writer1', tenant: 'local', role: 'writer', namespaces: null, remoteAddress: '127.0.0.1' };

const provenanceOf = (record: { origin: unknown; origin_ref: unknown; written_by: unknown }) => ({ origin: record.origin, origin_ref: record.origin_ref, written_by: record.written_by });

describe('provenance, through the tools, on either store', () => {
  it('remember keeps each memory\'s origin and reference; without them a tool call is the agent\'s; the writer is the calling principal', async () => {
    const other = await linked.clientAs(writer);
    const stored = await callOk(other, 'remember', {
      memories: [
        { content: 'Zinnias bloom from early summer to frost.', origin: 'web', origin_ref: 'https://example.com/flowers/zinnia' },
        { content: 'The user said zinnias are her favourite.', origin: 'user' },
        { content: 'Watered the zinnias at noon.' },
        { content: 'The soil sensor read 31% moisture near the zinnias.', origin: 'tool', origin_ref: 'garden.soil_sensor' },
      ],
    });
    const ids = stored.stored.map((s: { id: string }) => s.id);
    const { memories } = await callOk(linked.client, 'get_memory', { ids });
    expect(memories.map(provenanceOf)).toEqual([
      { origin: 'web', origin_ref: 'https://example.com/flowers/zinnia', written_by: 'key_writer1' },
      { origin: 'user', origin_ref: null, written_by: 'key_writer1' },
      { origin: 'agent', origin_ref: null, written_by: 'key_writer1' },
      { origin: 'tool', origin_ref: 'garden.soil_sensor', written_by: 'key_writer1' },
    ]);
    const local = await callOk(linked.client, 'remember', { content: 'Zinnias need full sun.' });
    const [mine] = (await callOk(linked.client, 'get_memory', { ids: [local.stored[0].id] })).memories;
    expect(provenanceOf(mine)).toEqual({ origin: 'agent', origin_ref: null, written_by: 'local' });

    // Hits carry the origin; origins filters keyword, vector and hybrid searches alike.
    for (const mode of ['keyword', 'vector', 'hybrid']) {
      const all = await callOk(linked.client, 'search_memory', { query: 'zinnias', mode, limit: 20 });
      expect(Object.fromEntries(all.hits.map((h: { id: string; origin: string }) => [h.id, h.origin])), mode).toEqual({
        [ids[0]]: 'web', [ids[1]]: 'user', [ids[2]]: 'agent', [ids[3]]: 'tool', [local.stored[0].id]: 'agent',
      });
      const some = await callOk(linked.client, 'search_memory', { query: 'zinnias', mode, origins: ['user', 'web'], limit: 20 });
      expect(some.hits.map((h: { id: string }) => h.id).sort(), mode).toEqual([ids[0], ids[1]].sort());
    }
    const recent = await callOk(linked.client, 'search_memory', { origins: 'tool' });
    expect(recent.hits.map((h: { id: string }) => h.id)).toEqual([ids[3]]);
  });

  it('a supersede is a new record with its own provenance; the corrected one keeps its own', async () => {
    const first = await callOk(linked.client, 'remember', { content: 'The shop opens at 9.', origin: 'web', origin_ref: 'https://shop.example.com/hours' });
    const other = await linked.clientAs(writer);
    const fix = await callOk(other, 'remember', { content: 'The shop opens at 10 since May.', supersedes: first.stored[0].id, origin: 'user' });
    const { memories } = await callOk(linked.client, 'get_memory', { ids: [first.stored[0].id, fix.stored[0].id] });
    expect(memories.map(provenanceOf)).toEqual([
      { origin: 'web', origin_ref: 'https://shop.example.com/hours', written_by: 'local' },
      { origin: 'user', origin_ref: null, written_by: 'key_writer1' },
    ]);
  });

  it('goals and outcomes carry it; an outcome\'s summary and new lessons inherit it; a lesson merged into an existing one leaves that one\'s as it was', async () => {
    const lesson = await callOk(linked.client, 'remember', { content: 'Back up the database before every schema migration.', layer: 'procedural', kind: 'lesson', origin: 'user' });
    const goal = await callOk(linked.client, 'remember_goal', { title: 'Migrate the billing schema', plan: [{ title: 'Write the migration' }], origin: 'tool', origin_ref: 'jira.create_issue' });
    expect(provenanceOf(goal.goal)).toEqual({ origin: 'tool', origin_ref: 'jira.create_issue', written_by: 'local' });
    // Updates change fields, never provenance, and say so when asked to.
    expect(await callError(linked.client, 'remember_goal', { goal_id: goal.goal.id, origin: 'user' })).toMatch(/origin and origin_ref are set when a goal is created and never change/);
    const updated = await callOk(linked.client, 'remember_goal', { goal_id: goal.goal.id, priority: 'high' });
    expect(provenanceOf(updated.goal)).toEqual({ origin: 'tool', origin_ref: 'jira.create_issue', written_by: 'local' });

    const other = await linked.clientAs(writer);
    const outcome = await callOk(other, 'record_outcome', {
      goal_id: goal.goal.id,
      result: 'failure',
      summary: 'The migration locked the invoices table for ten minutes.',
      lessons: ['Back up the database before every schema migration.', 'Run long migrations in batches off hours.'],
      origin: 'tool',
      origin_ref: 'https://ci.example.com/runs/4411',
    });
    expect(outcome.merged_lesson_ids).toEqual([lesson.stored[0].id]);
    const fromOutcome = { origin: 'tool', origin_ref: 'https://ci.example.com/runs/4411', written_by: 'key_writer1' };
    const read = await callOk(linked.client, 'get_goal', { goal_id: goal.goal.id });
    expect(provenanceOf(read.goal.outcomes[0])).toEqual(fromOutcome);
    const newLesson = outcome.lesson_memory_ids.find((id: string) => id !== lesson.stored[0].id);
    const { memories } = await callOk(linked.client, 'get_memory', { ids: [outcome.summary_memory_id, newLesson, lesson.stored[0].id] });
    expect(memories.map(provenanceOf)).toEqual([fromOutcome, fromOutcome, { origin: 'user', origin_ref: null, written_by: 'local' }]);
    // The resources say it in a line.
    const body = await linked.client.readResource({ uri: `pinak://goal/${goal.goal.id}` });
    expect((body.contents[0] as { text: string }).text).toContain('from: tool (jira.create_issue), written by local');
    const lessonBody = await linked.client.readResource({ uri: `pinak://memory/${newLesson}` });
    expect((lessonBody.contents[0] as { text: string }).text).toContain('from: tool (https://ci.example.com/runs/4411), written by key_writer1');
    // The goal's steps are searched with its origin.
    const steps = await callOk(linked.client, 'search_memory', { query: 'migration', types: ['step'], origins: ['tool'] });
    expect(steps.hits.map((h: { id: string }) => h.id)).toEqual([goal.goal.steps[0].id]);
  });

  it('a reference is a URL or a tool name, checked for secrets: a password or a token in a URL is not stored in clear', async () => {
    const token = new Fake(seeded(46)).github();
    const stored = await callOk(linked.client, 'remember', {
      memories: [
        { content: 'Release notes for 2.3.', origin: 'web', origin_ref: 'https://deploy:hunter2hunter2@example.com/releases/2.3' },
        { content: 'Build log of run 88.', origin: 'tool', origin_ref: `https://ci.example.com/runs/88?access_token=${token}&page=2` },
        { content: 'Signed download link.', origin: 'web', origin_ref: 'https://files.example.com/a.zip?X-Amz-Signature=abcdef0123456789&size=big' },
      ],
    });
    expect(stored.redacted.map((r: { field: string }) => r.field)).toEqual(['memories[0].origin_ref', 'memories[1].origin_ref', 'memories[2].origin_ref']);
    const { memories } = await callOk(linked.client, 'get_memory', { ids: stored.stored.map((s: { id: string }) => s.id) });
    const refs = memories.map((m: { origin_ref: string }) => m.origin_ref);
    expect(JSON.stringify(refs)).not.toMatch(new RegExp(`hunter2hunter2|${token}|abcdef0123456789`));
    // The general scanner takes the named value (and what follows it) first.
    expect(refs[1]).toMatch(/^https:\/\/ci\.example\.com\/runs\/88\?access_token=\[redacted: [a-z-]+\]/);
    expect(refs[2]).toBe('https://files.example.com/a.zip?X-Amz-Signature=[redacted: url-credential]&size=big');
    // A namespace that refuses secrets refuses the write.
    expect(await callError(linked.client, 'remember', { content: 'x', namespace: 'shared', origin: 'web', origin_ref: 'https://example.com/dl?sig=abc123def456' })).toMatch(
      /origin_ref holds what looks like a secret \(url-credential\)/,
    );
  });

  it('bad provenance is refused with a clear error', async () => {
    expect(await callError(linked.client, 'remember', { content: 'x', origin: 'system' })).toMatch(/origin/);
    expect(await callError(linked.client, 'remember', { content: 'x', origin: 'rumour' })).toMatch(/origin/);
    expect(await callError(linked.client, 'remember', { content: 'x', origin_ref: 'not a url or name' })).toMatch(/origin_ref: must be a URL .* or a tool name/);
    expect(await callError(linked.client, 'remember', { content: 'x', origin_ref: `https://example.com/${'a'.repeat(600)}` })).toMatch(/origin_ref/);
    expect(await callError(linked.client, 'remember', { content: 'x', origin_ref: 'tool\nname' })).toMatch(/origin_ref/);
    expect(await callError(linked.client, 'remember_goal', { title: 'x', origin: 'import' })).toMatch(/origin/);
    expect(await callError(linked.client, 'search_memory', { query: 'x', origins: ['rumour'] })).toMatch(/origins/);
    expect((await callOk(linked.client, 'memory_stats')).memories_total).toBe(0);
  });
});
