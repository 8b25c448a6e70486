import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callError, callOk } from '../helpers/calls.js';
import { linkedServer, TEST_BACKEND, type Linked } from '../helpers/in-memory-server.js';

let linked: Linked;
beforeEach(async () => {
  linked = await linkedServer({ embedder: true });
});
afterEach(async () => {
  await linked.close();
});

const total = async (): Promise<number> => (await callOk(linked.client, 'memory_stats')).memories_total;

describe('idempotency keys', () => {
  it('a retried remember with the same key stores one memory and returns the first answer', async () => {
    const args = { content: 'Invoice 4411 was paid on Friday', idempotency_key: 'retry-1' };
    const first = await callOk(linked.client, 'remember', args);
    const second = await callOk(linked.client, 'remember', args);
    expect(second).toEqual(first);
    expect(await total()).toBe(1);
  });

  it('concurrent calls with the same key store once and all get the same answer', async () => {
    const args = { memories: [{ content: 'pipelined a' }, { content: 'pipelined b' }], idempotency_key: 'burst' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => callOk(linked.client, 'remember', args)));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(await total()).toBe(2);
  });

  it('refuses a key reused for a different call', async () => {
    await callOk(linked.client, 'remember', { content: 'first use', idempotency_key: 'k' });
    expect(await callError(linked.client, 'remember', { content: 'something else', idempotency_key: 'k' })).toMatch(/already used for a different call/);
    expect(await callError(linked.client, 'forget', { ids: ['01JD3Z6Q6H8W1V8N2X4C5B7E9F'], idempotency_key: 'k' })).toMatch(/different call/);
    expect(await total()).toBe(1);
  });

  it('makes goals, outcomes and forget idempotent too', async () => {
    const goalArgs = { title: 'Idempotent goal', plan: [{ title: 'step' }], idempotency_key: 'g1' };
    const goal = (await callOk(linked.client, 'remember_goal', goalArgs)).goal;
    expect((await callOk(linked.client, 'remember_goal', goalArgs)).goal.id).toBe(goal.id);
    expect((await callOk(linked.client, 'list_goals', {})).goals).toHaveLength(1);

    const outcomeArgs = { goal_id: goal.id, result: 'success', summary: 'done once', lessons: ['only once'], idempotency_key: 'o1' };
    const outcome = await callOk(linked.client, 'record_outcome', outcomeArgs);
    expect((await callOk(linked.client, 'record_outcome', outcomeArgs)).outcome_id).toBe(outcome.outcome_id);
    expect((await callOk(linked.client, 'get_goal', { goal_id: goal.id })).goal.outcomes_total).toBe(1);

    const forgetArgs = { ids: [outcome.summary_memory_id], idempotency_key: 'f1' };
    expect((await callOk(linked.client, 'forget', forgetArgs)).forgotten).toEqual([outcome.summary_memory_id]);
    // The retry answers as the first call did, rather than "not found".
    expect((await callOk(linked.client, 'forget', forgetArgs)).forgotten).toEqual([outcome.summary_memory_id]);
  });

  it('refuses a key with control characters, naming the field', async () => {
    for (const key of ['a\u0000b', 'line\nbreak', 'tab\there', '\u001f', 'k\u001b[31m', 'del\u007f', 'next\u0085line']) {
      expect(await callError(linked.client, 'remember', { content: 'x', idempotency_key: key }), JSON.stringify(key)).toMatch(/idempotency_key.*must not contain control characters/);
    }
    expect(await callError(linked.client, 'forget', { ids: ['01JD3Z6Q6H8W1V8N2X4C5B7E9F'], idempotency_key: 'x\ry' })).toMatch(/control characters/);
    expect(await total()).toBe(0);
    // Printable text of any script is fine.
    await callOk(linked.client, 'remember', { content: 'x', idempotency_key: 'clé-ключ-鍵 ✓' });
    expect(await total()).toBe(1);
  });

  // SQLite's own files and local index: no PostgreSQL counterpart.
  it.skipIf(TEST_BACKEND === 'postgres')('a retry of a call stored before fingerprints were keyed (a plain SHA-256 under the bare key) still gets its first answer', async () => {
    const answer = await callOk(linked.client, 'remember', { content: 'stored before the upgrade' });
    const args = { content: 'stored before the upgrade', idempotency_key: 'before-upgrade' };
    // The record such a call left: its key as sent, and the plain SHA-256 of the canonical arguments.
    const db = new Database(join(linked.dir, 'pinak.db'));
    db.prepare('INSERT INTO idempotency_keys (key, tool, args_sha256, result, created_at) VALUES (?, ?, ?, ?, ?)').run(
      'before-upgrade', 'remember', createHash('sha256').update('{"content":"stored before the upgrade","idempotency_key":"before-upgrade"}').digest('hex'), JSON.stringify({ output: answer }), new Date().toISOString(),
    );
    db.close();
    expect(await callOk(linked.client, 'remember', args)).toEqual(answer);
    expect(await callError(linked.client, 'remember', { ...args, content: 'other words' })).toMatch(/already used for a different call/);
    expect(await total()).toBe(1);
  });

  // A trigger in SQLite's own file stands for the database going away between a write's commit and the keeping of its answer.
  it.skipIf(TEST_BACKEND === 'postgres')('a retry of a write whose answer was never kept gets that answer, rebuilt from what the write noted it made, and nothing is stored twice', async () => {
    const db = new Database(join(linked.dir, 'pinak.db'));
    db.exec(`CREATE TRIGGER lose_answers BEFORE UPDATE OF result ON idempotency_keys WHEN NEW.result LIKE '{"output"%' BEGIN SELECT RAISE(ABORT, 'answer lost'); END`);
    try {
      const again = async (tool: string, args: Record<string, unknown>) => {
        const first = await callOk(linked.client, tool, args);
        expect(await callOk(linked.client, tool, args), tool).toEqual(first);
        return first;
      };
      const stored = await again('remember', { memories: [{ content: 'lost answer one' }, { content: 'lost answer two', layer: 'procedural' }], idempotency_key: 'lost-r' });
      expect(stored.count).toBe(2);
      const created = await again('remember_goal', { title: 'Ship the lost-answer fix', plan: [{ title: 'write it' }, { title: 'test it' }], idempotency_key: 'lost-g' });
      const goalId = created.goal.id;
      await again('remember_goal', { goal_id: goalId, priority: 'high', idempotency_key: 'lost-u' });
      const outcome = await again('record_outcome', { goal_id: goalId, step_id: created.goal.steps[0].id, result: 'success', summary: 'written', lessons: ['note what a write made'], idempotency_key: 'lost-o' });
      expect(outcome.next_step.id).toBe(created.goal.steps[1].id);
      const forgotten = await again('forget', { ids: [stored.stored[0].id, '01JD3Z6Q6H8W1V8N2X4C5B7E9F'], idempotency_key: 'lost-f' });
      expect(forgotten).toEqual({ forgotten: [stored.stored[0].id], missing: ['01JD3Z6Q6H8W1V8N2X4C5B7E9F'] });
      // Two memories, one forgotten, plus the outcome's summary and lesson; one goal.
      expect(await total()).toBe(3);
      expect((await callOk(linked.client, 'list_goals', {})).goals).toHaveLength(1);
    } finally {
      db.close();
    }
  });

  it('a refused write does not burn its key', async () => {
    expect(await callError(linked.client, 'remember', { content: 'x', goal_id: '01JD3Z6Q6H8W1V8N2X4C5B7E9F', idempotency_key: 'bad' })).toMatch(/not found/);
    expect(await total()).toBe(0);
  });
});

describe('batch atomicity under concurrency', () => {
  it('pipelined batches never interleave half-writes, and a bad batch stores nothing', async () => {
    const good = Array.from({ length: 20 }, (_, b) =>
      callOk(linked.client, 'remember', { memories: Array.from({ length: 50 }, (_, i) => ({ content: `batch ${b} item ${i}`, tags: [`b${b}`] })) }),
    );
    const bad = Array.from({ length: 5 }, (_, b) =>
      callError(linked.client, 'remember', {
        memories: [{ content: `doomed ${b} a` }, { content: `doomed ${b} b`, supersedes: '01JD3Z6Q6H8W1V8N2X4C5B7E9F' }],
      }),
    );
    await Promise.all([...good, ...bad]);
    expect(await total()).toBe(1000);
    for (let b = 0; b < 20; b += 7) {
      const { hits } = await callOk(linked.client, 'search_memory', { query: '', tags_all: [`b${b}`], limit: 100 });
      expect(hits).toHaveLength(50);
    }
    expect((await callOk(linked.client, 'search_memory', { query: 'doomed', mode: 'keyword' })).hits).toEqual([]);
  });
});
