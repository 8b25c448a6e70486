import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';
import type { ContextScoring } from '../../src/memory/context-scoring.js';
import { DEFAULT_CONTEXT } from '../../src/runtime.js';

// Each turn carries one word no other turn has, so a window's text is visible through which words find it.
const TURNS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

const open: Linked[] = [];
afterEach(async () => {
  for (const linked of open.splice(0)) await linked.close();
});

async function conversation(context?: ContextScoring): Promise<{ linked: Linked; ids: string[] }> {
  const linked = await linkedServer(context ? { context } : {});
  open.push(linked);
  const memories = TURNS.map((word) => ({ content: `turn ${word}`, layer: 'episodic', kind: 'turn', thread_id: 'talk' }));
  const ids = (await callOk(linked.client, 'remember', { memories })).stored.map((m: { id: string }) => m.id);
  return { linked, ids };
}

/** The memories whose window (the memory and its neighbours) contains `word`, in thread order. */
async function windowsWith(linked: Linked, word: string): Promise<string[]> {
  const { store } = linked.runtime;
  const filters = { namespace: null, time_field: 'occurred_at', include_superseded: false } as const;
  const hits = await store.searchWindows({ terms: [word], filters, limit: 50 });
  const views = await store.describeDocs(hits.map((hit) => hit.doc_id));
  return views.sort((a, b) => a.thread_position! - b.thread_position!).map((view) => view.entity_id);
}

/** The memories each window holding `word` is made of: [before, middle, after] (null at a thread's edge). */
async function windowMembers(linked: Linked, word: string): Promise<Array<Array<string | null>>> {
  const { store } = linked.runtime;
  const filters = { namespace: null, time_field: 'occurred_at', include_superseded: false } as const;
  const hits = await store.searchWindows({ terms: [word], filters, limit: 50 });
  const docIds = hits.flatMap((hit) => [hit.before, hit.doc_id, hit.after]).filter((id): id is number => id !== null);
  const entity = new Map((await store.describeDocs(docIds)).map((view) => [view.doc_id, view]));
  const position = (docId: number): number => entity.get(docId)!.thread_position!;
  const name = (docId: number | null): string | null => (docId === null ? null : entity.get(docId)!.entity_id);
  return hits.sort((a, b) => position(a.doc_id) - position(b.doc_id)).map((hit) => [name(hit.before), name(hit.doc_id), name(hit.after)]);
}

describe('thread windows', () => {
  it('hold each turn with the one before and the one after', async () => {
    const { linked, ids } = await conversation();
    expect(await windowsWith(linked, 'charlie')).toEqual([ids[1], ids[2], ids[3]]);
    // At the edges a window has one neighbour only.
    expect(await windowsWith(linked, 'alpha')).toEqual([ids[0], ids[1]]);
    expect(await windowsWith(linked, 'echo')).toEqual([ids[3], ids[4]]);
  });

  it('follow a turn inserted between two others', async () => {
    const { linked, ids } = await conversation();
    const between = (await callOk(linked.client, 'remember', { content: 'turn foxtrot', thread_id: 'talk', position: 2.5 })).stored[0].id;
    expect(await windowsWith(linked, 'foxtrot')).toEqual([ids[1], between, ids[2]]);
    // bravo and charlie are no longer neighbours.
    expect(await windowsWith(linked, 'charlie')).toEqual([between, ids[2], ids[3]]);
    expect(await windowsWith(linked, 'bravo')).toEqual([ids[0], ids[1], between]);
    expect(await windowMembers(linked, 'foxtrot')).toEqual([
      [ids[0], ids[1], between],
      [ids[1], between, ids[2]],
      [between, ids[2], ids[3]],
    ]);
    expect(await windowMembers(linked, 'alpha')).toEqual([
      [null, ids[0], ids[1]],
      [ids[0], ids[1], between],
    ]);
  });

  it('close over a forgotten turn, and drop it from every window', async () => {
    const { linked, ids } = await conversation();
    await callOk(linked.client, 'forget', { ids: [ids[2]] });
    expect(await windowsWith(linked, 'charlie')).toEqual([]);
    expect(await windowsWith(linked, 'bravo')).toEqual([ids[0], ids[1], ids[3]]);
    expect(await windowsWith(linked, 'delta')).toEqual([ids[1], ids[3], ids[4]]);
  });

  it('leave out a superseded turn until what replaced it is forgotten', async () => {
    const { linked, ids } = await conversation();
    const other = (await callOk(linked.client, 'remember', { content: 'standalone golf', supersedes: ids[1] })).stored[0].id;
    expect(await windowsWith(linked, 'bravo')).toEqual([]);
    expect(await windowsWith(linked, 'alpha')).toEqual([ids[0], ids[2]]);
    // A memory outside threads has no window.
    expect(await windowsWith(linked, 'golf')).toEqual([]);
    await callOk(linked.client, 'forget', { ids: [other] });
    expect(await windowsWith(linked, 'bravo')).toEqual([ids[0], ids[1], ids[2]]);
    expect(await windowsWith(linked, 'alpha')).toEqual([ids[0], ids[1]]);
  });

  it('keep threads of the same name in different namespaces apart', async () => {
    const { linked, ids } = await conversation();
    const elsewhere = (await callOk(linked.client, 'remember', { content: 'turn hotel', thread_id: 'talk', namespace: 'other' })).stored[0].id;
    expect(await windowsWith(linked, 'hotel')).toEqual([elsewhere]);
    expect(await windowsWith(linked, 'echo')).toEqual([ids[3], ids[4]]);
  });

  it('let search find the turn that shares no word with the query, but whose window holds them all', async () => {
    const search = async (linked: Linked) =>
      (await callOk(linked.client, 'search_memory', { query: 'bravo delta', mode: 'keyword', limit: 5 })).hits.map((hit: { id: string }) => hit.id);
    const on = await conversation();
    // Only the window around "charlie" holds both words: it ranks right after the two turns that match.
    expect((await search(on.linked)).slice(0, 3).sort()).toEqual([on.ids[1], on.ids[2], on.ids[3]].sort());
    const off = await conversation({ ...DEFAULT_CONTEXT, window: 0 });
    expect(await search(off.linked)).not.toContain(off.ids[2]);
  });
});
