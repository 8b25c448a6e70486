import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/principal.js';
import { callOk } from '../helpers/calls.js';
import { collect } from '../helpers/collect.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer();
});
afterEach(async () => {
  await linked.close();
});


const writerOf = (namespaces: string[]): Principal => ({ id: `key-writer-${namespaces.join('+')}`, tenant: 'acme', role: 'writer', namespaces, remoteAddress: '127.0.0.1' });

type Structured = Record<string, any>;

/** A goal that was worked on and ended: created, then its outcome recorded. */
async function pastGoal(
  title: string,
  result: 'success' | 'failure' | 'partial',
  summary: string,
  lessons: string[],
  extra: Record<string, unknown> = {},
  client: Client = linked.client,
): Promise<{ goal: Structured; outcome: Structured }> {
  const { goal } = await callOk(client, 'remember_goal', { title, ...extra });
  const outcome = await callOk(client, 'record_outcome', { goal_id: goal.id, result, summary, lessons });
  return { goal, outcome };
}

async function toolText(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  expect(result.isError).toBeFalsy();
  return (result.content as Array<{ type: string; text?: string }>)[0]!.text!;
}

describe('remember_goal: experience of past goals', () => {
  it('brings the similar past goals, successes first, failures with what went wrong, lessons with their ids; not the new goal, not unrelated goals', async () => {
    const failed = await pastGoal('Migrate the billing database to PostgreSQL', 'failure', 'The copy locked the invoices table for an hour and was rolled back.', [
      'Never copy the invoices table while writes are on.',
    ]);
    const succeeded = await pastGoal('Migrate the billing database to PostgreSQL again', 'success', 'Logical replication moved everything with one minute of downtime.', [
      'Use logical replication for the billing database.',
      'Freeze invoice writes for the final switch only.',
    ]);
    await pastGoal('Paint the office kitchen', 'success', 'Two coats, done by Friday.', ['Buy paint a day early.']);

    const created = await callOk(linked.client, 'remember_goal', { title: 'Migrate the billing database', description: 'Move billing to PostgreSQL.' });
    const experience = created.experience as Structured[];
    expect(experience.map((p) => p.goal_id)).toEqual([succeeded.goal.id, failed.goal.id]);
    expect(experience[0]).toMatchObject({ title: 'Migrate the billing database to PostgreSQL again', status: 'achieved', result: 'success', outcome_id: succeeded.outcome.outcome_id });
    expect(experience[0]!.lessons).toEqual([
      { id: succeeded.outcome.lesson_memory_ids[0], text: 'Use logical replication for the billing database.', result: 'success' },
      { id: succeeded.outcome.lesson_memory_ids[1], text: 'Freeze invoice writes for the final switch only.', result: 'success' },
    ]);
    expect(experience[1]).toMatchObject({
      status: 'failed',
      result: 'failure',
      outcome_id: failed.outcome.outcome_id,
      summary: 'The copy locked the invoices table for an hour and was rolled back.',
      lessons: [{ id: failed.outcome.lesson_memory_ids[0], text: 'Never copy the invoices table while writes are on.', result: 'failure' }],
    });

    const text = await toolText(linked.client, 'remember_goal', { title: 'Migrate the billing database once more' });
    expect(text).toContain('experience from 3 similar past goals (successes first):');
    expect(text).toContain(`- ${failed.goal.id} "Migrate the billing database to PostgreSQL" [failed]: FAILED: The copy locked the invoices table`);
    expect(text).toContain(`    lesson ${succeeded.outcome.lesson_memory_ids[0]}: Use logical replication for the billing database.`);
    expect(text).toContain(`    lesson ${failed.outcome.lesson_memory_ids[0]} (from a failure): Never copy`);
    expect(text).not.toContain('kitchen');
  });

  it('shows a lesson merged from two goals\' outcomes once, under the first goal that has it', async () => {
    const first = await pastGoal('Rotate the payment gateway keys', 'success', 'Rotated without downtime.', ['Rotate the gateway keys with an overlap window of one day.']);
    const second = await pastGoal('Rotate the payment gateway keys again', 'success', 'Rotated again.', ['Rotate the gateway keys with an overlap window of a day.', 'Announce the rotation to the on-call team.']);
    // The second outcome's first lesson said the first goal's lesson again: one memory, linked from both outcomes.
    expect(second.outcome.merged_lesson_ids).toEqual([first.outcome.lesson_memory_ids[0]]);

    const { experience } = await callOk(linked.client, 'remember_goal', { title: 'Rotate the payment gateway keys' });
    const shown = (experience as Structured[]).flatMap((p) => (p.lessons as Structured[]).map((l) => l.id));
    expect(shown).toHaveLength(new Set(shown).size);
    expect(shown.filter((id) => id === first.outcome.lesson_memory_ids[0])).toHaveLength(1);
    expect(shown).toContain(second.outcome.lesson_memory_ids[1]);
  });

  it('keeps to a handful: at most 5 past goals, 3 lessons each, long texts trimmed', async () => {
    const long = `The export ran out of memory ${'while building the whole file in one string '.repeat(20)}`;
    for (let i = 0; i < 7; i++) {
      await pastGoal(`Speed up the customer export, attempt ${i}`, i % 2 ? 'failure' : 'success', long, [1, 2, 3, 4].map((n) => `Export lesson ${n} of attempt ${i}: stream rows.`));
    }
    const { experience } = await callOk(linked.client, 'remember_goal', { title: 'Speed up the customer export' });
    expect(experience).toHaveLength(5);
    // The attempts' lessons are alike enough to be merged, and a lesson is shown once: under the first goal, 3; the others fewer.
    expect((experience as Structured[])[0]!.lessons).toHaveLength(3);
    for (const past of experience as Structured[]) {
      expect(past.lessons.length).toBeLessThanOrEqual(3);
      expect(past.summary.length).toBeLessThanOrEqual(240);
      expect(past.summary.endsWith('…')).toBe(true);
    }
    const results = (experience as Structured[]).map((p) => p.result);
    expect(results).toEqual([...results].sort((a, b) => Number(b === 'success') - Number(a === 'success')));
  });

  it('is empty for a first goal, and for a goal like none before', async () => {
    expect((await callOk(linked.client, 'remember_goal', { title: 'Write the first goal ever' })).experience).toEqual([]);
    await pastGoal('Tune the search ranking', 'success', 'Recall went up.', ['Measure on the validation split.']);
    expect((await callOk(linked.client, 'remember_goal', { title: 'Plant tomatoes in spring' })).experience).toEqual([]);
  });

  it('with vectors too: similar goals come, unrelated ones stay out', async () => {
    await linked.close();
    linked = await linkedServer({ embedder: true });
    const ok = await pastGoal('Speed up the search index rebuild', 'success', 'Batching made it 4x faster.', ['Rebuild the index in batches of 5000.']);
    await pastGoal('Plan the team offsite', 'failure', 'The venue was booked twice.', ['Confirm the venue in writing.']);
    const { experience } = await callOk(linked.client, 'remember_goal', { title: 'Speed up the search index rebuild on staging' });
    expect(experience.map((p: Structured) => p.goal_id)).toEqual([ok.goal.id]);
    expect((await callOk(linked.client, 'remember_goal', { title: 'Water the garden plants' })).experience).toEqual([]);
  });

  it('a goal returned as an existing look-alike brings the experience of the others, not its own', async () => {
    const old = await pastGoal('Harden the auth service', 'failure', 'The rate limiter blocked every login.', ['Test the limiter with real traffic first.']);
    const active = await callOk(linked.client, 'remember_goal', { title: 'Harden the auth service now' });
    const again = await callOk(linked.client, 'remember_goal', { title: 'Harden the auth service now', if_duplicate: 'return_existing' });
    expect(again.existing).toBe(true);
    expect(again.goal.id).toBe(active.goal.id);
    expect(again.experience.map((p: Structured) => p.goal_id)).toEqual([old.goal.id]);
  });

  it('shows only goals of the goal\'s namespace, to a key confined to namespaces too', async () => {
    await pastGoal('Rotate the signing keys', 'failure', 'Secret of team b.', ['Team b lesson about keys.'], { namespace: 'team-b' });
    const mine = await pastGoal('Rotate the signing keys', 'success', 'Done in team a.', ['Team a lesson about keys.'], { namespace: 'team-a' });
    const confined = await linked.clientAs(writerOf(['team-a']));
    const first = await callOk(linked.client, 'remember_goal', { title: 'Rotate the signing keys', namespace: 'team-a' });
    expect(first.experience.map((p: Structured) => p.goal_id)).toEqual([mine.goal.id]);
    // The confined key's goal sees team a's two: the past one (a success, first) and the one just created.
    const second = await callOk(confined, 'remember_goal', { title: 'Rotate the signing keys' });
    expect(second.goal.namespace).toBe('team-a');
    expect(second.experience.map((p: Structured) => p.goal_id)).toEqual([mine.goal.id, first.goal.id]);
    expect(JSON.stringify([first.experience, second.experience])).not.toContain('Team b');
  });

  it('the audit row of the call names the goals and lessons it showed as returned', async () => {
    const { goal, outcome } = await pastGoal('Upgrade the release pipeline', 'success', 'Builds take half the time.', ['Cache the dependencies between builds.']);
    const created = await callOk(linked.client, 'remember_goal', { title: 'Upgrade the release pipeline for arm64' });
    const row = (await collect(linked.runtime.store.exportAudit())).filter((r) => r.tool === 'remember_goal').at(-1)!;
    expect(row.ids_touched).toEqual([created.goal.id]);
    expect(row.ids_returned).toEqual([goal.id, outcome.lesson_memory_ids[0]]);
  });
});

describe('record_outcome: reflection on a failure', () => {
  /** Lessons of the namespace learned before, by other goals and by remember. */
  async function someLessons(namespace?: string) {
    const where = namespace === undefined ? {} : { namespace };
    const fromGoal = await pastGoal('Copy the invoices archive', 'success', 'Copied overnight.', ['Freeze invoice writes before copying the billing database.'], where);
    const stored = await callOk(linked.client, 'remember', { content: 'Check the billing database backups restore before any migration.', layer: 'procedural', kind: 'lesson', ...where });
    const writers = await callOk(linked.client, 'remember', { content: 'Stop the billing writers first: a live billing database never copies cleanly.', layer: 'procedural', ...where });
    await callOk(linked.client, 'remember', { content: 'Water the office plants on Mondays.', layer: 'procedural', kind: 'lesson', ...where });
    await callOk(linked.client, 'remember', { content: 'The billing database runs PostgreSQL 15.', layer: 'semantic', ...where });
    return { frozen: fromGoal.outcome.lesson_memory_ids[0] as string, backups: stored.stored[0].id as string, writers: writers.stored[0].id as string };
  }

  it('names the lessons the goal had and no call returned, and asks for lessons when none were given', async () => {
    const { frozen, backups, writers } = await someLessons();
    // Recalled while planning, just before the goal was created: counts.
    const seen = await callOk(linked.client, 'search_memory', { query: 'backups restore', layers: ['procedural'] });
    expect(seen.hits.map((h: Structured) => h.id)).toContain(backups);
    const { goal, experience } = await callOk(linked.client, 'remember_goal', { title: 'Move the billing database to new disks', description: 'Before the migration.' });
    // Shown as experience (a lesson of a past goal like this one): counts too.
    expect(experience[0].lessons.map((l: Structured) => l.id)).toEqual([frozen]);
    const failed = await callOk(linked.client, 'record_outcome', { goal_id: goal.id, result: 'failure', summary: 'Writes kept coming and the copy diverged.' });
    expect(failed.missed_lessons).toEqual([{ id: writers, text: 'Stop the billing writers first: a live billing database never copies cleanly.', goal_id: null }]);
    expect(failed.reflection_note).toMatch(/^no lessons were recorded for this failure: .*remember \(layer "procedural", kind "lesson", goal_id "/);
    const text = await toolText(linked.client, 'record_outcome', { goal_id: goal.id, result: 'partial', summary: 'Half the disks moved.', lessons: ['Move one disk at a time.'], update_status: false });
    // The lesson shown by the failure's answer counts as recalled now: nothing is left to point at.
    expect(text).not.toContain('did not recall');
    expect(text).not.toContain('no lessons were recorded');
  });

  it('a success reflects on nothing; a partial with lessons lists what was missed without a note; lessons shown as experience count as recalled', async () => {
    const { frozen, backups, writers } = await someLessons();
    const done = await callOk(linked.client, 'remember_goal', { title: 'Archive the old billing database' });
    expect(done.experience.map((p: Structured) => p.lessons.map((l: Structured) => l.id)).flat()).toContain(frozen);
    const success = await callOk(linked.client, 'record_outcome', { goal_id: done.goal.id, result: 'success', summary: 'Archived.' });
    expect(success).not.toHaveProperty('missed_lessons');
    expect(success).not.toHaveProperty('reflection_note');
    const other = await callOk(linked.client, 'remember_goal', { title: 'Archive the old billing database again' });
    const partial = await callOk(linked.client, 'record_outcome', { goal_id: other.goal.id, result: 'partial', summary: 'Half archived.', lessons: ['Archive by year.'] });
    expect(partial.missed_lessons.map((l: Structured) => l.id).sort()).toEqual([backups, writers].sort());
    expect(partial).not.toHaveProperty('reflection_note');
    const row = (await collect(linked.runtime.store.exportAudit())).filter((r) => r.tool === 'record_outcome').at(-1)!;
    expect(row.ids_returned).toEqual(partial.missed_lessons.map((l: Structured) => l.id));
  });

  it('only lessons of the goal\'s namespace, to a key confined to it too', async () => {
    await someLessons('team-b');
    const { frozen } = await someLessons('team-a');
    const confined = await linked.clientAs(writerOf(['team-a']));
    const { goal } = await callOk(confined, 'remember_goal', { title: 'Split the billing database', namespace: 'team-a' });
    // The experience showed team a's frozen-writes lesson: it counts as recalled.
    const failed = await callOk(confined, 'record_outcome', { goal_id: goal.id, result: 'failure', summary: 'Too slow.', lessons: ['Split by tenant.'] });
    const missed = failed.missed_lessons as Structured[];
    expect(missed.map((l) => l.id)).not.toContain(frozen);
    expect(missed).toHaveLength(2);
    for (const { id } of missed) expect((await callOk(linked.client, 'get_memory', { id })).memories[0].namespace).toBe('team-a');
  });
});

describe('record_outcome: a lesson said again strengthens the one stored', () => {
  const procedural = async (namespace = 'default') =>
    (await callOk(linked.client, 'search_memory', { query: '', namespace, layers: ['procedural'], limit: 100 })).hits.map((h: Structured) => h.id).sort();

  it('merges a reworded lesson into the existing one (evidence counted, updated time moved), links the outcome to it, and stores different or opposite lessons apart', async () => {
    const first = await pastGoal('Copy the billing database', 'failure', 'Writes diverged.', ['Freeze invoice writes before copying the billing database.', 'Deploy on Fridays.']);
    const [frozen, fridays] = first.outcome.lesson_memory_ids as string[];
    const before = (await callOk(linked.client, 'get_memory', { id: frozen })).memories[0];
    const lessons = ['Before copying the billing database, freeze invoice writes.', 'Never deploy on Fridays.', 'Check the billing database backups before copying.'];
    const second = await pastGoal('Copy the billing database to the new region', 'success', 'Copied.', lessons);
    expect(second.outcome.lesson_memory_ids[0]).toBe(frozen);
    expect(second.outcome.lesson_memory_ids.slice(1)).not.toContain(fridays);
    expect(second.outcome.merged_lesson_ids).toEqual([frozen]);
    const after = (await callOk(linked.client, 'get_memory', { id: frozen })).memories[0];
    expect(after.content).toBe(before.content);
    expect(after.metadata.evidence).toEqual({ count: 2, success: 1, failure: 1, partial: 0, outcome_ids: [first.outcome.outcome_id, second.outcome.outcome_id] });
    expect(after.updated_at > before.updated_at).toBe(true);
    // Two outcomes, five lessons said, four stored.
    expect(await procedural()).toHaveLength(4);
    const { goal } = await callOk(linked.client, 'get_goal', { goal_id: second.goal.id });
    expect(goal.outcomes[0]).toMatchObject({ lessons, lesson_memory_ids: second.outcome.lesson_memory_ids });
    // Said a third time, in the text answer too.
    const text = await toolText(linked.client, 'record_outcome', { goal_id: first.goal.id, result: 'partial', summary: 'Retried.', lessons: ['Freeze the invoice writes before copying the billing database!'], update_status: false });
    expect(text).toContain(`(already known, strengthened: ${frozen})`);
    expect((await callOk(linked.client, 'get_memory', { id: frozen })).memories[0].metadata.evidence).toMatchObject({ count: 3, partial: 1 });
  });

  it('never merges across namespaces', async () => {
    const theirs = await pastGoal('Copy the billing database', 'success', 'Done.', ['Freeze invoice writes before copying the billing database.'], { namespace: 'team-b' });
    const mine = await pastGoal('Copy the billing database', 'success', 'Done.', ['Before copying the billing database, freeze invoice writes.'], { namespace: 'team-a' });
    expect(mine.outcome).not.toHaveProperty('merged_lesson_ids');
    expect(mine.outcome.lesson_memory_ids[0]).not.toBe(theirs.outcome.lesson_memory_ids[0]);
    const confined = await linked.clientAs(writerOf(['team-a']));
    const { goal } = await callOk(confined, 'remember_goal', { title: 'Copy the billing database again' });
    const again = await callOk(confined, 'record_outcome', { goal_id: goal.id, result: 'success', summary: 'Done.', lessons: ['Freeze invoice writes before copying the billing database.'] });
    expect(again.merged_lesson_ids).toEqual([mine.outcome.lesson_memory_ids[0]]);
    expect((await callOk(linked.client, 'get_memory', { id: theirs.outcome.lesson_memory_ids[0] })).memories[0].metadata).not.toHaveProperty('evidence');
  });
});

describe('remember: on_duplicate', () => {
  it('keep stores and reports the stored memories that say the same; skip stores nothing of those; supersede corrects the most alike; without it nothing is checked', async () => {
    const [old] = (await callOk(linked.client, 'remember', { content: 'Alice prefers dark mode in every editor.' })).stored;
    await callOk(linked.client, 'remember', { content: 'Alice prefers dark mode in every editor.', layer: 'procedural' });
    const [other] = (await callOk(linked.client, 'remember', { content: 'Alice lives in Paris.' })).stored;

    const plain = await callOk(linked.client, 'remember', { content: 'In every editor Alice prefers dark mode.' });
    expect(plain.stored[0]).not.toHaveProperty('similar');
    expect(plain).not.toHaveProperty('skipped');

    const kept = await callOk(linked.client, 'remember', { content: 'Alice prefers the dark mode in every editor!', on_duplicate: 'keep' });
    expect(kept.stored[0].similar.sort()).toEqual([old.id, plain.stored[0].id].sort());
    expect(kept.stored[0].supersedes).toBeNull();

    const skipped = await callOk(linked.client, 'remember', {
      memories: [{ content: 'Alice prefers dark mode in every editor.' }, { content: 'Alice lives in Berlin now.' }, { content: 'Bob takes tea without sugar.' }],
      on_duplicate: 'skip',
    });
    expect(skipped.count).toBe(2);
    expect(skipped.skipped).toHaveLength(1);
    expect(skipped.skipped[0].index).toBe(0);
    expect(skipped.skipped[0].similar).toContain(old.id);
    expect(skipped.stored.map((s: Structured) => s.similar)).toEqual([[], []]);

    const text = await toolText(linked.client, 'remember', { content: 'Alice lives in Paris.', on_duplicate: 'skip' });
    expect(text).toBe(`stored 0 memories; skipped 1 already stored: memories[0] as ${other.id}`);

    const corrected = await callOk(linked.client, 'remember', { content: 'Alice lives in Paris, France.', on_duplicate: 'supersede' });
    expect(corrected.stored[0]).toMatchObject({ supersedes: other.id, similar: [other.id] });
    const hits = (await callOk(linked.client, 'search_memory', { query: 'Alice lives', limit: 10 })).hits.map((h: Structured) => h.id);
    expect(hits).not.toContain(other.id);
    expect(hits).toContain(corrected.stored[0].id);

    const row = (await collect(linked.runtime.store.exportAudit())).filter((r) => r.tool === 'remember').at(-1)!;
    expect(row).toMatchObject({ ids_touched: [corrected.stored[0].id], ids_returned: [other.id] });
  });

  it('compares within the namespace and layer only, for a confined key too', async () => {
    await callOk(linked.client, 'remember', { content: 'Deploys freeze on Fridays.', namespace: 'team-b' });
    await callOk(linked.client, 'remember', { content: 'Deploys freeze on Fridays.', namespace: 'team-a', layer: 'procedural' });
    const confined = await linked.clientAs(writerOf(['team-a']));
    const r = await callOk(confined, 'remember', { content: 'Deploys freeze on Fridays.', on_duplicate: 'skip' });
    expect(r.count).toBe(1);
    expect(r.stored[0]).toMatchObject({ namespace: 'team-a', similar: [] });
  });
});

describe('search_memory: lessons ranked by their track record', () => {
  const search = async (query: string, client: Client = linked.client): Promise<Structured[]> => (await callOk(client, 'search_memory', { query, kinds: ['lesson'] })).hits;
  const whyOf = (hits: Structured[], id: string): string | undefined => hits.find((hit) => hit.id === id)?.why.track_record;

  it('a lesson says which outcomes it came from (merged ones too), in its why and in the text; other hits say nothing', async () => {
    const { outcome } = await pastGoal('Renew the TLS certificates', 'failure', 'They expired on a Sunday.', ['Renew certificates a month before they expire.']);
    const lesson = outcome.lesson_memory_ids[0];
    await pastGoal('Renew the wildcard certificate', 'success', 'Renewed in time.', ['Renew the certificates a month before they expire.']);
    const [plain] = (await callOk(linked.client, 'remember', { content: 'Certificates renew through the ACME client.', layer: 'procedural', kind: 'lesson' })).stored;
    const hits = await search('renew certificates');
    expect(whyOf(hits, lesson)).toBe('from 2 outcomes: 1 success, 1 failure');
    expect(hits.find((hit) => hit.id === plain.id)).toBeDefined();
    expect(whyOf(hits, plain.id)).toBeUndefined();
    expect(await toolText(linked.client, 'search_memory', { query: 'renew certificates', kinds: ['lesson'] })).toContain(`${lesson} (`);
    expect(await toolText(linked.client, 'search_memory', { query: 'renew certificates', kinds: ['lesson'] })).toContain('; track record from 2 outcomes: 1 success, 1 failure)');
  });

  it('counts a lesson as recalled for a goal when the principal that ends the goal was returned it, from an hour before the goal until its deciding outcome; not a step\'s or a partial outcome, not another principal\'s recall, not the same goal twice', async () => {
    const [lesson] = (await callOk(linked.client, 'remember', { content: 'Drain the queue before resizing the cluster.', layer: 'procedural', kind: 'lesson' })).stored;
    const other = await linked.clientAs({ id: 'key-other', tenant: 'local', role: 'writer', namespaces: null, remoteAddress: null });
    // Recalled by another principal only: the goal's success is no evidence for it.
    await callOk(other, 'get_memory', { id: lesson.id });
    await pastGoal('Resize the worker cluster', 'success', 'Resized.', []);
    expect(whyOf(await search('drain queue resizing'), lesson.id)).toBeUndefined();

    // Recalled by the principal ending the goal: a step's outcome and a partial one decide nothing, the success does, once.
    const agent = await linked.clientAs({ id: 'key-agent', tenant: 'local', role: 'writer', namespaces: null, remoteAddress: null });
    const { goal } = await callOk(agent, 'remember_goal', { title: 'Resize the batch cluster', plan: [{ title: 'Drain the queue' }] });
    await callOk(agent, 'get_memory', { id: lesson.id });
    await callOk(agent, 'record_outcome', { goal_id: goal.id, step_id: goal.steps[0].id, result: 'success', summary: 'Drained.' });
    await callOk(agent, 'record_outcome', { goal_id: goal.id, result: 'partial', summary: 'Half resized.' });
    expect(whyOf(await search('drain queue resizing'), lesson.id)).toBeUndefined();
    await callOk(agent, 'record_outcome', { goal_id: goal.id, result: 'success', summary: 'Resized.', update_status: false });
    await callOk(agent, 'record_outcome', { goal_id: goal.id, result: 'failure', summary: 'Shrunk again by mistake.' });
    expect(whyOf(await search('drain queue resizing', agent), lesson.id)).toBe('recalled before 1 outcome: 1 success');
  });

  it('moves a lesson past a near tie only: a clearly better match stays above a lesson with a perfect record', async () => {
    const { outcome } = await pastGoal('Rotate the database password', 'success', 'Rotated.', ['Rotate passwords during the quiet hour.']);
    await pastGoal('Rotate the cache password', 'success', 'Rotated.', ['Rotate the passwords during the quiet hour.']);
    await pastGoal('Rotate the queue password', 'success', 'Rotated.', ['Rotate passwords during a quiet hour.']);
    const [better] = (await callOk(linked.client, 'remember', { content: 'Rotate the database replica password through the vault rotation job.', layer: 'procedural', kind: 'lesson' })).stored;
    const hits = await search('rotate database replica password vault rotation job');
    expect(whyOf(hits, outcome.lesson_memory_ids[0])).toBe('from 3 outcomes: 3 successes');
    expect(hits[0]?.id).toBe(better.id);
  });
});
