import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Memory } from '../../src/domain/memory.js';
import type { KeywordHit, MemoryStore, NewMemory, StoreFilters } from '../../src/store/store.js';
import { bm25Scores, tokens } from './bm25.js';
import {
  day,
  docIds,
  docIdsOf,
  entitiesOf,
  filters,
  goalRecord,
  goalText,
  indexed,
  newMemory,
  planRecord,
  remember,
  sorted,
  stepRecord,
} from './fixtures.js';
import type { Harness } from './memory-store-contract.js';

/** A corpus row: what is stored, and its tokens as `porter unicode61 remove_diacritics 2` makes them. */
interface Row {
  key: string;
  stems: string;
}

/** Hits as [entity id, score] pairs, for comparing with expected scores. */
async function scored(store: MemoryStore, hits: readonly KeywordHit[]): Promise<Array<[string, number]>> {
  const entities = await entitiesOf(store, hits);
  return hits.map((hit, i) => [entities[i]!, hit.score]);
}

/** The expected hits of a query: rows holding a term, best first (ties: the later stored first; rows are listed as stored), among the rows a search may return. */
function expectedHits(rows: readonly Row[], queryStems: string[], returned: (key: string) => boolean): Array<[string, number]> {
  const scores = bm25Scores(new Map(rows.map((row) => [row.key, tokens(row.stems)])), queryStems);
  const order = new Map(rows.map((row, i) => [row.key, i]));
  return [...scores].filter(([key]) => returned(key)).sort((a, b) => b[1] - a[1] || order.get(b[0])! - order.get(a[0])!);
}

function expectScores(actual: Array<[string, number]>, expected: Array<[string, number]>, names: ReadonlyMap<string, string>, what: string): void {
  const name = (key: string): string => names.get(key) ?? key;
  expect(actual.map(([key]) => name(key)), what).toEqual(expected.map(([key]) => name(key)));
  actual.forEach(([, score], i) => expect(score, `${what}: ${name(actual[i]![0])}`).toBeCloseTo(expected[i]![1], 9));
}

export function searchContract(h: Harness): void {
  describe('keyword search', () => {
    it('ranks by BM25, higher score first: more occurrences, shorter records and rarer words score higher; ties go to the later stored', async () => {
      const [often, short, long, rare, twin1, twin2] = await remember(
        h.store,
        newMemory({ content: 'otter otter otter river' }),
        newMemory({ content: 'otter river bank' }),
        newMemory({ content: 'an otter swims in the long and winding river that runs past the old mill' }),
        newMemory({ content: 'beaver river bank' }),
        newMemory({ content: 'heron heron' }),
        newMemory({ content: 'heron heron' }),
        ...['river reeds', 'river stones', 'muddy river', 'river mouth', 'slow river'].map((content) => newMemory({ content })),
      );
      const search = (terms: string[]) => h.store.searchKeyword({ terms, filters: filters(), limit: 10 });
      const otter = await search(['otter']);
      expect(await entitiesOf(h.store, otter)).toEqual([often!.id, short!.id, long!.id]);
      expect(otter.every((hit) => hit.score > 0)).toBe(true);
      expect(otter[0]!.score).toBeGreaterThan(otter[1]!.score);
      expect(otter[1]!.score).toBeGreaterThan(otter[2]!.score);
      // Equal length: the rarer word weighs more.
      const either = await entitiesOf(h.store, await search(['otter', 'beaver']));
      expect(either.indexOf(rare!.id)).toBeGreaterThanOrEqual(0);
      expect(either.indexOf(rare!.id)).toBeLessThan(either.indexOf(short!.id));
      const twins = await search(['heron']);
      expect(await entitiesOf(h.store, twins)).toEqual([twin2!.id, twin1!.id]);
      expect(twins[0]!.score).toBe(twins[1]!.score);
      expect(await search(['kingfisher'])).toEqual([]);
    });

    it('returns at most `limit` hits, the best ones', async () => {
      const stored = await remember(
        h.store,
        ...[1, 2, 3, 4, 5, 6].map((n) => newMemory({ content: `${'newt '.repeat(n)}pond` })),
        ...['pond weed', 'pond life', 'deep pond', 'pond edge', 'still pond', 'pond ice', 'pond frogs'].map((content) => newMemory({ content })),
      );
      const hits = await h.store.searchKeyword({ terms: ['newt'], filters: filters(), limit: 3 });
      expect(await entitiesOf(h.store, hits)).toEqual([stored[5]!.id, stored[4]!.id, stored[3]!.id]);
    });

    it('over the whole store, the best visible matches come back when the best matches are superseded', async () => {
      // Nine matches, the first the best (more "newt" in each); the best five superseded.
      const stored = await remember(
        h.store,
        ...[9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => newMemory({ content: `${'newt '.repeat(n)}pond` })),
        ...['reeds', 'stones', 'mud', 'mouth', 'weed', 'life', 'edge', 'ice', 'frogs', 'lilies'].map((content) => newMemory({ content })),
      );
      await remember(h.store, ...stored.slice(0, 5).map((old) => newMemory({ content: 'dry pond', supersedes: old.id })));
      const search = async (limit: number, include_superseded = false) =>
        entitiesOf(h.store, await h.store.searchKeyword({ terms: ['newt'], filters: filters({ include_superseded }), limit }));
      expect(await search(2)).toEqual([stored[5]!.id, stored[6]!.id]);
      expect(await search(3)).toEqual([stored[5]!.id, stored[6]!.id, stored[7]!.id]);
      expect(await search(10)).toEqual(stored.slice(5, 9).map((m) => m.id));
      expect(await search(2, true)).toEqual([stored[0]!.id, stored[1]!.id]);
      // The same in their namespace, which holds every record (asked twice: a store may plan the second differently).
      for (let i = 0; i < 2; i++) {
        const hits = await h.store.searchKeyword({ terms: ['newt'], filters: filters({ namespace: 'alpha' }), limit: 3 });
        expect(await entitiesOf(h.store, hits)).toEqual([stored[5]!.id, stored[6]!.id, stored[7]!.id]);
      }
    });

    it('matched counts the query terms a record holds, matched as the index stems them', async () => {
      const [both, stemmed, one] = await remember(
        h.store,
        newMemory({ content: 'the connected wires hum' }),
        newMemory({ content: 'connections need copper wire' }),
        newMemory({ content: 'loose wires' }),
        newMemory({ content: 'nothing relevant here' }),
        newMemory({ content: 'nothing relevant there' }),
        newMemory({ content: 'still nothing relevant' }),
      );
      const hits = await h.store.searchKeyword({ terms: ['connecting', 'wire', 'zebra'], filters: filters(), limit: 10 });
      const matched = new Map((await entitiesOf(h.store, hits)).map((id, i) => [id, hits[i]!.matched]));
      expect(matched).toEqual(new Map([[both!.id, 2], [stemmed!.id, 2], [one!.id, 1]]));
    });

    it('words are found as the index tokenizer reads them: any case, without diacritics, stemmed, common words too, split at punctuation', async () => {
      const [cafe, common, mail, plural] = await remember(
        h.store,
        newMemory({ content: 'Café NAÏVE Résumé' }),
        newMemory({ content: 'to be or not to be' }),
        newMemory({ content: 'send the e-mail' }),
        newMemory({ content: 'Running dogs' }),
        newMemory({ content: 'filler one' }),
        newMemory({ content: 'filler two' }),
      );
      const find = async (term: string) => entitiesOf(h.store, await h.store.searchKeyword({ terms: [term], filters: filters(), limit: 10 }));
      for (const term of ['cafe', 'café', 'naive', 'resume']) expect(await find(term), term).toEqual([cafe!.id]);
      expect(await find('be')).toEqual([common!.id]);
      expect(await find('mail')).toEqual([mail!.id]);
      expect(await find('run')).toEqual([plural!.id]);
      expect(await find('dog')).toEqual([plural!.id]);
    });

    it('searches the indexed text and its keywords, not the content: docTexts still gives the content', async () => {
      const [withGoal, withDate] = await remember(
        h.store,
        newMemory({ content: 'lessons learned' }, { text: 'lessons learned\nRepaint the lighthouse' }),
        newMemory({ content: 'standup notes' }, { keywords: '8 May 2023' }),
        newMemory({ content: 'unrelated filler' }),
      );
      const find = async (term: string) => entitiesOf(h.store, await h.store.searchKeyword({ terms: [term], filters: filters(), limit: 10 }));
      expect(await find('lighthouse')).toEqual([withGoal!.id]);
      expect(await find('2023')).toEqual([withDate!.id]);
      expect(await find('standup')).toEqual([withDate!.id]);
      const docs = await docIdsOf(h.store, withGoal!.id, withDate!.id);
      expect(await h.store.docTexts(docs)).toEqual(new Map([[docs[0]!, 'lessons learned'], [docs[1]!, 'standup notes']]));
    });

    /**
     * A tiny corpus over two namespaces, with a goal, its step and a superseded
     * memory among the rows: BM25's row count and mean length are taken over
     * every record of the store (hidden ones too), or of the namespace alone
     * for a confined search. Written once, nothing deleted or rewritten.
     */
    async function bm25Corpus(): Promise<{ rows: Row[]; alpha: Row[]; hidden: Set<string>; names: Map<string, string> }> {
      const goal = goalRecord({ title: 'Repaint the lighthouse' });
      const plan = planRecord(1, [stepRecord(1, 'Buy lantern paint')]);
      await h.store.createGoal(goal, indexed(goalText(goal)), plan);
      const [r1, r2, r3, r5] = await remember(
        h.store,
        newMemory({ content: 'The harbour lanterns glow' }),
        newMemory({ content: 'Lanterns and lanterns by the harbour wall' }),
        newMemory({ content: 'Connected connections keep connecting' }),
        newMemory({ content: 'Meeting notes' }, { keywords: '8 May 2023' }),
      );
      const [r4] = await remember(h.store, newMemory({ content: 'A quiet harbour', supersedes: r3!.id }));
      const [r6, r7] = await remember(
        h.store,
        newMemory({ content: 'Harbour ferries and harbour lanterns', namespace: 'beta' }),
        newMemory({ content: 'Gulls', namespace: 'beta' }),
      );
      const alpha: Row[] = [
        { key: goal.id, stems: 'repaint the lighthous' },
        { key: plan.steps[0]!.id, stems: 'bui lantern paint' },
        { key: r1!.id, stems: 'the harbour lantern glow' },
        { key: r2!.id, stems: 'lantern and lantern by the harbour wall' },
        { key: r3!.id, stems: 'connect connect keep connect' },
        { key: r5!.id, stems: 'meet note 8 mai 2023' },
        { key: r4!.id, stems: 'a quiet harbour' },
      ];
      const rows = [...alpha, { key: r6!.id, stems: 'harbour ferri and harbour lantern' }, { key: r7!.id, stems: 'gull' }];
      const names = new Map([
        [goal.id, 'goal'],
        [plan.steps[0]!.id, 'step'],
        ...[r1, r2, r3, r4, r5, r6, r7].map((m, i) => [m!.id, `r${i + 1}`] as [string, string]),
      ]);
      return { rows, alpha, hidden: new Set([r3!.id]), names };
    }

    const QUERIES: Array<{ terms: string[]; stems: string[] }> = [
      { terms: ['harbour'], stems: ['harbour'] },
      { terms: ['lanterns'], stems: ['lantern'] },
      { terms: ['harbour', 'lantern'], stems: ['harbour', 'lantern'] },
      { terms: ['the'], stems: ['the'] },
      { terms: ['connection', 'quiet'], stems: ['connect', 'quiet'] },
      { terms: ['glowing', 'wall', 'gulls'], stems: ['glow', 'wall', 'gull'] },
    ];

    it('scores are exactly BM25 over every record of the store (k1 1.2, b 0.75, IDF floored at 1e-6), whatever the namespace filter', async () => {
      const { rows, alpha, hidden, names } = await bm25Corpus();
      const inAlpha = new Set(alpha.map((row) => row.key));
      for (const query of QUERIES) {
        for (const include_superseded of [false, true]) {
          const visible = (key: string) => include_superseded || !hidden.has(key);
          const all = await h.store.searchKeyword({ terms: query.terms, filters: filters({ include_superseded }), limit: 20 });
          expectScores(await scored(h.store, all), expectedHits(rows, query.stems, visible), names, `${query.terms} (include_superseded ${include_superseded})`);
          const some = await h.store.searchKeyword({ terms: query.terms, filters: filters({ namespace: 'alpha', include_superseded }), limit: 20 });
          expectScores(await scored(h.store, some), expectedHits(rows, query.stems, (key) => visible(key) && inAlpha.has(key)), names, `${query.terms} in alpha`);
        }
      }
    });

    it('a confined search scores exactly BM25 over its namespace\'s records alone, superseded ones counted', async () => {
      const { alpha, hidden, names } = await bm25Corpus();
      for (const query of QUERIES) {
        for (const include_superseded of [false, true]) {
          const hits = await h.store.searchKeyword({ terms: query.terms, filters: filters({ namespace: 'alpha', confined: true, include_superseded }), limit: 20 });
          const expected = expectedHits(alpha, query.stems, (key) => include_superseded || !hidden.has(key));
          expectScores(await scored(h.store, hits), expected, names, `${query.terms} confined (include_superseded ${include_superseded})`);
        }
      }
    });

    /**
     * Every record holds "zinnia": which come back shows what each filter admits.
     * Returns the records by name; the goal "G" and its step "S" were made before the memories.
     * Origins: G and S tool, a1 and b1 user, a2 web, a3 not recorded (null), a4 and a5 agent.
     */
    async function filterCorpus(): Promise<{ ids: Record<string, string>; created: Record<string, string>; goalId: string }> {
      const goal = goalRecord({ title: 'zinnia garden', tags: ['green'], origin: 'tool', origin_ref: 'garden.planner' });
      const plan = planRecord(1, [stepRecord(1, 'plant zinnia seeds')]);
      await h.store.createGoal(goal, indexed(goal.title), plan);
      const m = (content: string, fields: Partial<Memory>): NewMemory => newMemory({ content: `zinnia ${content}`, ...fields });
      const [a1, a2, a3, b1, a4] = await remember(
        h.store,
        m('one', { tags: ['red', 'blue'], occurred_at: day(1), origin: 'user' }),
        m('two', { layer: 'episodic', kind: 'event', tags: ['red'], occurred_at: day(5), goal_id: goal.id, origin: 'web', origin_ref: 'https://example.com/zinnias' }),
        m('three', { layer: 'procedural', kind: 'lesson', occurred_at: day(10), origin: null, origin_ref: null, written_by: null }),
        m('beta', { namespace: 'beta', tags: ['red', 'blue'], occurred_at: day(3), origin: 'user' }),
        m('four', { tags: ['blue'], occurred_at: day(2) }),
      );
      const [a5] = await remember(h.store, m('five', { tags: ['blue'], occurred_at: day(7), supersedes: a4!.id }));
      const stored = { a1, a2, a3, b1, a4, a5 };
      const ids: Record<string, string> = { G: goal.id, S: plan.steps[0]!.id };
      const created: Record<string, string> = { G: goal.created_at };
      for (const [name, memory] of Object.entries(stored)) {
        ids[name] = memory!.id;
        created[name] = memory!.created_at;
      }
      return { ids, created, goalId: goal.id };
    }

    it('filters: namespace, layers, kinds, types, origins, trust, tags, goal, time and superseded records, the same in search, recent, filterDocIds and admit', async () => {
      const { ids, created, goalId } = await filterCorpus();
      const cases: Array<[string, Partial<StoreFilters>, string[]]> = [
        ['every namespace', {}, ['G', 'S', 'a1', 'a2', 'a3', 'b1', 'a5']],
        ['namespace alpha', { namespace: 'alpha' }, ['G', 'S', 'a1', 'a2', 'a3', 'a5']],
        ['namespace beta', { namespace: 'beta' }, ['b1']],
        ['a namespace with nothing', { namespace: 'gamma' }, []],
        ['layers (goals and steps have none)', { layers: ['episodic', 'procedural'] }, ['a2', 'a3']],
        ['kinds', { kinds: ['note'] }, ['a1', 'b1', 'a5']],
        ['kinds of goals and steps', { kinds: ['goal', 'step'] }, ['G', 'S']],
        ['types goal', { types: ['goal'] }, ['G']],
        ['types step and memory', { types: ['step', 'memory'], namespace: 'alpha' }, ['S', 'a1', 'a2', 'a3', 'a5']],
        ['tags_any', { tags_any: ['red'] }, ['a1', 'a2', 'b1']],
        ['tags_any (steps carry their goal\'s tags)', { tags_any: ['green', 'blue'] }, ['G', 'S', 'a1', 'b1', 'a5']],
        ['tags_all', { tags_all: ['red', 'blue'] }, ['a1', 'b1']],
        ['tags_all and tags_any', { tags_all: ['blue'], tags_any: ['red'], namespace: 'alpha' }, ['a1']],
        ['goal_id (the goal, its steps, its memories)', { goal_id: goalId }, ['G', 'S', 'a2']],
        ['since inclusive, until exclusive', { since: day(5), until: day(10) }, ['a2', 'a5']],
        ['since only', { since: day(7) }, ['G', 'S', 'a3', 'a5']],
        ['until only', { until: day(3) }, ['a1']],
        ['created_at', { time_field: 'created_at', since: created.a2!, until: created.b1! }, ['a2', 'a3']],
        ['include_superseded', { include_superseded: true, namespace: 'alpha', layers: ['semantic'] }, ['a1', 'a4', 'a5']],
        ['several', { namespace: 'alpha', layers: ['semantic'], tags_any: ['blue'] }, ['a1', 'a5']],
        ['origins', { origins: ['user'] }, ['a1', 'b1']],
        ['origins (steps carry their goal\'s)', { origins: ['tool', 'web'] }, ['G', 'S', 'a2']],
        ['origins: a record stored without provenance matches none', { origins: ['agent', 'user'], namespace: 'alpha' }, ['a1', 'a5']],
        ['origins and include_superseded', { origins: ['agent'], include_superseded: true }, ['a4', 'a5']],
        ['origins and another filter', { origins: ['user', 'web'], tags_any: ['red'], namespace: 'alpha' }, ['a1', 'a2']],
        ['min_trust high: a user\'s words', { min_trust: 'high' }, ['a1', 'b1']],
        ['min_trust medium: not from a tool or the web (not recorded is medium)', { min_trust: 'medium' }, ['a1', 'a3', 'b1', 'a5']],
        ['min_trust and include_superseded', { min_trust: 'medium', include_superseded: true, namespace: 'alpha' }, ['a1', 'a3', 'a4', 'a5']],
        ['min_trust and origins', { min_trust: 'medium', origins: ['user', 'web'] }, ['a1', 'b1']],
      ];
      const all = [...(await docIds(h.store)).values()];
      const name = new Map(Object.entries(ids).map(([key, id]) => [id, key]));
      const names = async (hits: ReadonlyArray<{ doc_id: number }>) => sorted((await entitiesOf(h.store, hits)).map((id) => name.get(id) ?? id));
      const asHits = (docs: Iterable<number>) => [...docs].map((doc_id) => ({ doc_id }));
      for (const [what, fields, expected] of cases) {
        const f = filters(fields);
        expect(await names(await h.store.searchKeyword({ terms: ['zinnia'], filters: f, limit: 50 })), `searchKeyword: ${what}`).toEqual(sorted(expected));
        expect(await names(await h.store.recent({ filters: f, limit: 50 })), `recent: ${what}`).toEqual(sorted(expected));
        expect(await names(asHits(await h.store.admit(all, f))), `admit: ${what}`).toEqual(sorted(expected));
        const visible = expected.filter((n) => n !== 'a4');
        expect(await names(asHits(await h.store.filterDocIds(f))), `filterDocIds (visible records only): ${what}`).toEqual(sorted(visible));
        if (f.namespace !== null) {
          const confined = await h.store.searchKeyword({ terms: ['zinnia'], filters: { ...f, confined: true }, limit: 50 });
          expect(await names(confined), `confined searchKeyword: ${what}`).toEqual(sorted(expected));
        }
      }
    });

    it('recent lists the newest records first by the chosen time field, up to the limit', async () => {
      const [mid, old, last] = await remember(
        h.store,
        newMemory({ content: 'middle', occurred_at: day(5) }),
        newMemory({ content: 'oldest', occurred_at: day(1) }),
        newMemory({ content: 'newest', occurred_at: day(9) }),
      );
      const [same1, same2] = await remember(h.store, newMemory({ content: 'same a', occurred_at: day(3) }), newMemory({ content: 'same b', occurred_at: day(3) }));
      const list = async (time_field: StoreFilters['time_field'], limit: number) => entitiesOf(h.store, await h.store.recent({ filters: filters({ time_field }), limit }));
      expect(await list('occurred_at', 10)).toEqual([last!.id, mid!.id, same2!.id, same1!.id, old!.id]);
      expect(await list('occurred_at', 2)).toEqual([last!.id, mid!.id]);
      expect(await list('created_at', 10)).toEqual([same2!.id, same1!.id, last!.id, old!.id, mid!.id]);
    });

    it('another store on the same database finds what this one wrote, and the other way round', async () => {
      const other = await h.openShared();
      const [mine] = await remember(h.store, newMemory({ content: 'written by the first puffin' }));
      const [theirs] = await remember(other.store, newMemory({ content: 'written by the second puffin' }));
      for (const store of [h.store, other.store]) {
        expect(await store.getMemories([mine!.id, theirs!.id])).toEqual([mine, theirs]);
        expect(sorted(await entitiesOf(store, await store.searchKeyword({ terms: ['puffin'], filters: filters(), limit: 10 })))).toEqual(sorted([mine!.id, theirs!.id]));
        expect(await entitiesOf(store, await store.recent({ filters: filters(), limit: 10 }))).toEqual([theirs!.id, mine!.id]);
      }
    });
  });

  describe('thread windows', () => {
    const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

    /** A thread of five turns, one word each; returns the turns' ids in thread order and their doc ids. */
    async function conversation(namespace = 'alpha'): Promise<{ ids: string[]; docs: number[] }> {
      const turns = await remember(h.store, ...WORDS.map((word) => newMemory({ content: `turn ${word}`, namespace, layer: 'episodic', thread_id: 'talk' })));
      const ids = turns.map((t) => t!.id);
      return { ids, docs: await docIdsOf(h.store, ...ids) };
    }

    /** The windows holding a word, as [before, middle, after] entity ids, in thread order. */
    async function windowsWith(word: string, f: StoreFilters = filters()): Promise<Array<Array<string | null>>> {
      const hits = await h.store.searchWindows({ terms: [word], filters: f, limit: 50 });
      const members = hits.flatMap((hit) => [hit.before, hit.doc_id, hit.after]).filter((doc): doc is number => doc !== null);
      const views = new Map((await h.store.describeDocs(members)).map((view) => [view.doc_id, view]));
      const id = (doc: number | null) => (doc === null ? null : views.get(doc)!.entity_id);
      return hits
        .sort((a, b) => views.get(a.doc_id)!.thread_position! - views.get(b.doc_id)!.thread_position!)
        .map((hit) => [id(hit.before), id(hit.doc_id), id(hit.after)]);
    }

    it('a window is a thread memory with the one before and the one after; each hit is its middle memory', async () => {
      const { ids } = await conversation();
      await remember(h.store, newMemory({ content: 'charlie outside any thread' }));
      const [a, b, c, d, e] = ids;
      expect(await windowsWith('charlie')).toEqual([
        [a, b, c],
        [b, c, d],
        [c, d, e],
      ]);
      expect(await windowsWith('alpha')).toEqual([
        [null, a, b],
        [a, b, c],
      ]);
      expect(await windowsWith('echo')).toEqual([
        [c, d, e],
        [d, e, null],
      ]);
      expect(await windowsWith('outside')).toEqual([]);
    });

    it('windows follow a turn placed between two others, close over a superseded or deleted turn, and never join two namespaces', async () => {
      const { ids } = await conversation();
      await conversation('beta');
      const [a, b, c, d, e] = ids;
      const [between] = await remember(h.store, newMemory({ content: 'turn foxtrot', layer: 'episodic', thread_id: 'talk', thread_position: 2.5 }));
      const x = between!.id;
      expect(await windowsWith('foxtrot', filters({ namespace: 'alpha' }))).toEqual([
        [a, b, x],
        [b, x, c],
        [x, c, d],
      ]);
      await remember(h.store, newMemory({ content: 'charlie corrected', supersedes: c! }));
      expect(await windowsWith('delta', filters({ namespace: 'alpha' }))).toEqual([
        [b, x, d],
        [x, d, e],
        [d, e, null],
      ]);
      expect(await windowsWith('charlie', filters({ namespace: 'alpha' }))).toEqual([]);
      await h.store.deleteMemories([d!]);
      expect(await windowsWith('echo', filters({ namespace: 'alpha' }))).toEqual([
        [b, x, e],
        [x, e, null],
      ]);
      expect((await windowsWith('delta')).length).toBe(3);
    });

    it('two stores on one database appending to a thread and deleting from it at once: every write succeeds, and the windows are the thread\'s as it ends', async () => {
      const other = await h.openShared();
      const stores = [h.store, other.store];
      const first = await remember(h.store, ...Array.from({ length: 24 }, (_, i) => newMemory({ content: `early turn ${i}`, thread_id: 'busy' })));
      // Each append and each delete rewrites windows of the thread's last turns: the same rows, from both stores.
      await Promise.all(
        first.flatMap((turn, i) => [
          stores[i % 2]!.insertMemories([newMemory({ content: `late turn ${i}`, thread_id: 'busy' })]),
          stores[(i + 1) % 2]!.deleteMemories([turn!.id]),
        ]),
      );
      const late = await entitiesOf(h.store, await h.store.recent({ filters: filters(), limit: 50 }));
      expect(late).toHaveLength(24);
      const views = await h.store.describeDocs(await docIdsOf(h.store, ...late));
      const inOrder = views.sort((a, b) => a.thread_position! - b.thread_position!).map((view) => view.entity_id);
      expect(new Set(views.map((view) => view.thread_position)).size).toBe(24);
      expect(await windowsWith('late')).toEqual(inOrder.map((id, i) => [inOrder[i - 1] ?? null, id, inOrder[i + 1] ?? null]));
    });

    it('windows hold the memories\' content (not their keywords); filters apply to the middle memory', async () => {
      const turns = await remember(
        h.store,
        newMemory({ content: 'first turn', thread_id: 't', layer: 'episodic' }, { keywords: 'marigold' }),
        newMemory({ content: 'second turn', thread_id: 't', layer: 'semantic', tags: ['x'] }),
        newMemory({ content: 'third turn', thread_id: 't', layer: 'episodic' }),
      );
      const [first, second, third] = turns.map((t) => t!.id);
      expect(await windowsWith('marigold')).toEqual([]);
      expect((await windowsWith('turn')).map((w) => w[1])).toEqual([first, second, third]);
      expect((await windowsWith('second', filters({ layers: ['episodic'] }))).map((w) => w[1])).toEqual([first, third]);
      expect((await windowsWith('turn', filters({ tags_any: ['x'] }))).map((w) => w[1])).toEqual([second]);
      expect(await windowsWith('turn', filters({ namespace: 'beta' }))).toEqual([]);
    });

    /** Eight turns in alpha; "kite" in the first two. And a thread in beta full of kites. */
    async function kiteThread(): Promise<{ windows: Row[]; ids: string[]; names: Map<string, string> }> {
      const turns = [
        ['kites fly high', 'kite fli high'],
        ['the red kite', 'the red kite'],
        ['it landed', 'it land'],
        ['near the pier', 'near the pier'],
        ['gulls watched', 'gull watch'],
        ['then rain', 'then rain'],
        ['sun again', 'sun again'],
        ['home now', 'home now'],
      ] as const;
      const stored = await remember(h.store, ...turns.map(([content]) => newMemory({ content, thread_id: 'sky', layer: 'episodic' })));
      await remember(h.store, ...['kite kite', 'kite', 'more kites'].map((content) => newMemory({ content, thread_id: 'sky', namespace: 'beta' })));
      const ids = stored.map((m) => m!.id);
      const windows = ids.map((key, i) => ({ key, stems: [turns[i - 1]?.[1], turns[i]![1], turns[i + 1]?.[1]].filter(Boolean).join(' ') }));
      return { windows, ids, names: new Map(ids.map((id, i) => [id, `turn ${i + 1}`])) };
    }

    it('window hits rank by BM25 over the windows, higher score first', async () => {
      const { ids } = await kiteThread();
      const hits = await h.store.searchWindows({ terms: ['kite'], filters: filters({ namespace: 'alpha' }), limit: 10 });
      expect(await entitiesOf(h.store, hits)).toEqual(ids.slice(0, 3));
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
      expect(hits[2]!.score).toBeGreaterThan(0);
      expect(hits.map((hit) => [hit.before === null, hit.after === null])).toEqual([[true, false], [false, false], [false, false]]);
    });

    it('a confined window search scores exactly BM25 over its namespace\'s windows alone', async () => {
      const { windows, names } = await kiteThread();
      for (const [terms, stems] of [[['kites'], ['kite']], [['the', 'rain'], ['the', 'rain']]] as const) {
        const hits = await h.store.searchWindows({ terms, filters: filters({ namespace: 'alpha', confined: true }), limit: 10 });
        expectScores(await scored(h.store, hits), expectedHits(windows, [...stems], () => true), names, `${terms}`);
      }
    });
  });

  describe('reads by doc id', () => {
    it('threadNeighbours: up to `radius` visible thread neighbours each side, by position, offsets −radius…radius but 0', async () => {
      const turns = await remember(
        h.store,
        ...[1, 2, 3, 5, 8].map((thread_position) => newMemory({ content: `turn ${thread_position}`, thread_id: 't', thread_position })),
      );
      await remember(h.store, ...[1, 2].map((thread_position) => newMemory({ content: 'elsewhere', thread_id: 't', thread_position, namespace: 'beta' })));
      await remember(h.store, newMemory({ content: 'turn 3, corrected', supersedes: turns[2]!.id }));
      const [loose] = await remember(h.store, newMemory({ content: 'no thread' }));
      const [p1, p2, , p5, p8, none] = await docIdsOf(h.store, ...turns.map((t) => t!.id), loose!.id);
      const around = async (docs: number[], radius: number) =>
        (await h.store.threadNeighbours(docs, radius)).sort((a, b) => a.center - b.center || a.offset - b.offset);
      expect(await around([p2!], 2)).toEqual([
        { center: p2, doc_id: p1, offset: -1 },
        { center: p2, doc_id: p5, offset: 1 },
        { center: p2, doc_id: p8, offset: 2 },
      ]);
      expect(await around([p1!, p8!], 1)).toEqual([
        { center: p1, doc_id: p2, offset: 1 },
        { center: p8, doc_id: p5, offset: -1 },
      ]);
      expect(await around([p5!], 5)).toEqual([
        { center: p5, doc_id: p1, offset: -2 },
        { center: p5, doc_id: p2, offset: -1 },
        { center: p5, doc_id: p8, offset: 1 },
      ]);
      expect(await around([none!, 999_999], 3)).toEqual([]);
    });

    it('admit keeps the doc ids that pass the filters: visible ones unless superseded are included, unknown ids dropped', async () => {
      const [old, kept, other] = await remember(
        h.store,
        newMemory({ content: 'old' }),
        newMemory({ content: 'kept', layer: 'episodic' }),
        newMemory({ content: 'other', namespace: 'beta' }),
      );
      await remember(h.store, newMemory({ content: 'new', supersedes: old!.id }));
      const { goal } = await createGoalDoc(h.store);
      const [oldDoc, keptDoc, otherDoc, goalDoc] = await docIdsOf(h.store, old!.id, kept!.id, other!.id, goal);
      const asked = [oldDoc!, keptDoc!, otherDoc!, goalDoc!, 987_654];
      expect(await h.store.admit(asked, filters({ namespace: 'alpha' }))).toEqual(new Set([keptDoc, goalDoc]));
      expect(await h.store.admit(asked, filters({ namespace: 'alpha', include_superseded: true }))).toEqual(new Set([oldDoc, keptDoc, goalDoc]));
      expect(await h.store.admit(asked, filters({ layers: ['episodic'] }))).toEqual(new Set([keptDoc]));
      expect(await h.store.admit(asked, filters())).toEqual(new Set([keptDoc, otherDoc, goalDoc]));
      expect(await h.store.admit([], filters())).toEqual(new Set());
    });

    it('docTexts: a memory\'s content, a goal\'s title and description, a step\'s title and detail; unknown ids left out', async () => {
      const goal = goalRecord({ title: 'Learn Rust', description: 'the borrow checker first', success_criteria: ['a CLI tool'] });
      const plan = planRecord(1, [stepRecord(1, 'Read the book', 'chapters 1 to 4'), stepRecord(2, 'Write a parser')]);
      await h.store.createGoal(goal, indexed(goalText(goal)), plan);
      const plain = goalRecord({ title: 'No description' });
      await h.store.createGoal(plain, indexed(plain.title), null);
      const [m] = await remember(h.store, newMemory({ content: 'Rust has no GC', goal_id: goal.id }, { text: 'Rust has no GC\nLearn Rust' }));
      const docs = await docIdsOf(h.store, m!.id, goal.id, plan.steps[0]!.id, plan.steps[1]!.id, plain.id);
      expect(await h.store.docTexts([...docs, 123_456])).toEqual(
        new Map([
          [docs[0]!, 'Rust has no GC'],
          [docs[1]!, 'Learn Rust\nthe borrow checker first'],
          [docs[2]!, 'Read the book\nchapters 1 to 4'],
          [docs[3]!, 'Write a parser'],
          [docs[4]!, 'No description'],
        ]),
      );
      expect(await h.store.docTexts([])).toEqual(new Map());
    });

    it('docSpeakers: the metadata\'s speaker, else its author, when it is text', async () => {
      const stored = await remember(
        h.store,
        newMemory({ content: 'one', metadata: { speaker: 'Maria' } }),
        newMemory({ content: 'two', metadata: { author: 'Jon' } }),
        newMemory({ content: 'three', metadata: { author: 'Bob', speaker: 'Ann' } }),
        newMemory({ content: 'four', metadata: { speaker: 42 } }),
        newMemory({ content: 'six' }),
      );
      const { goal } = await createGoalDoc(h.store);
      const docs = await docIdsOf(h.store, ...stored.map((m) => m!.id), goal);
      expect(await h.store.docSpeakers(docs)).toEqual(new Map([[docs[0]!, 'Maria'], [docs[1]!, 'Jon'], [docs[2]!, 'Ann']]));
    });

    it('speakerNames: every speaker or author name once, in the order first seen, from a cursor; names stay when their memories go', async () => {
      expect(await h.store.speakerNames(0)).toEqual({ names: [], through: 0 });
      const stored = await remember(
        h.store,
        newMemory({ content: 'a', metadata: { speaker: 'Maria' } }),
        newMemory({ content: 'b', metadata: { author: 'Jon' } }),
        newMemory({ content: 'c', metadata: { speaker: 'Maria' } }),
        newMemory({ content: 'd', metadata: { speaker: 7, topic: 'Not a name' } }),
      );
      await remember(h.store, newMemory({ content: 'e', metadata: { speaker: 'Ann', author: 'Bob' } }));
      const first = await h.store.speakerNames(0);
      expect(first.names.slice(0, 2)).toEqual(['Maria', 'Jon']);
      expect(sorted(first.names.slice(2))).toEqual(['Ann', 'Bob']);
      expect(await h.store.speakerNames(first.through)).toEqual({ names: [], through: first.through });

      await remember(h.store, newMemory({ content: 'f', metadata: { speaker: 'Zoe' } }), newMemory({ content: 'g', metadata: { speaker: 'Jon' } }));
      const next = await h.store.speakerNames(first.through);
      expect(next.names).toEqual(['Zoe']);
      expect(next.through).not.toBe(first.through);
      expect(await h.store.speakerNames(next.through)).toEqual({ names: [], through: next.through });

      await h.store.deleteMemories(stored.map((m) => m!.id));
      expect((await h.store.speakerNames(0)).names).toEqual(first.names.concat(['Zoe']));
    });

    it('describeDocs: display data in the order given, unknown ids left out', async () => {
      const [m] = await remember(
        h.store,
        newMemory({ content: 'a turn', layer: 'episodic', kind: 'turn', tags: ['b', 'a'], occurred_at: day(4), thread_id: 'chat', thread_position: 7, namespace: 'beta', origin: 'web' }),
      );
      const [old] = await remember(h.store, newMemory({ content: 'old fact' }));
      await remember(h.store, newMemory({ content: 'new fact', supersedes: old!.id }));
      const [mDoc, oldDoc] = await docIdsOf(h.store, m!.id, old!.id);
      const views = await h.store.describeDocs([oldDoc!, 555_555, mDoc!]);
      expect(views.map((v) => ({ ...v, tags: sorted(v.tags) }))).toEqual([
        { doc_id: oldDoc, type: 'memory', entity_id: old!.id, namespace: 'alpha', layer: 'semantic', kind: 'note', text: 'old fact', tags: [], goal_id: null, occurred_at: old!.occurred_at, hidden: true, thread_id: null, thread_position: null, origin: 'agent', injection: null },
        { doc_id: mDoc, type: 'memory', entity_id: m!.id, namespace: 'beta', layer: 'episodic', kind: 'turn', text: 'a turn', tags: ['a', 'b'], goal_id: null, occurred_at: day(4), hidden: false, thread_id: 'chat', thread_position: 7, origin: 'web', injection: null },
      ]);
      expect(await h.store.describeDocs([])).toEqual([]);
    });

    it('scopeSize: about how many visible memories a namespace holds (an upper bound) and its share of the store; filterDocIds lists visible records only', async () => {
      expect(await h.store.scopeSize(filters())).toMatchObject({ share: 1 });
      const [old] = await remember(
        h.store,
        newMemory({ content: 'old' }),
        newMemory({ content: 'a', layer: 'episodic' }),
        newMemory({ content: 'b' }),
        newMemory({ content: 'beta one', namespace: 'beta' }),
      );
      await remember(h.store, newMemory({ content: 'replacement', supersedes: old!.id }));
      await createGoalDoc(h.store);
      const all = await h.store.scopeSize(filters());
      const alpha = await h.store.scopeSize(filters({ namespace: 'alpha' }));
      const beta = await h.store.scopeSize(filters({ namespace: 'beta' }));
      // Visible memories: 3 in alpha, 1 in beta; visible records (with the goal and its step): 5 in alpha.
      expect(all.share).toBe(1);
      expect(all.docs).toBeGreaterThanOrEqual(4);
      expect(all.docs).toBeLessThanOrEqual(6);
      expect(alpha.docs).toBeGreaterThanOrEqual(3);
      expect(alpha.docs).toBeLessThanOrEqual(5);
      expect(beta.docs).toBe(1);
      expect(alpha.share).toBeCloseTo(alpha.docs / all.docs, 9);
      expect(beta.share).toBeCloseTo(beta.docs / all.docs, 9);
      expect(await h.store.scopeSize(filters({ namespace: 'alpha', layers: ['procedural'], tags_all: ['none'] }))).toEqual(alpha);
      expect((await h.store.scopeSize(filters({ namespace: 'gamma' }))).docs).toBe(0);

      const [oldDoc] = await docIdsOf(h.store, old!.id);
      const visible = await h.store.filterDocIds(filters({ namespace: 'alpha', include_superseded: true }));
      expect(visible).toHaveLength(5);
      expect(visible).not.toContain(oldDoc);
    });
  });

  describe('namespace isolation', () => {
    const VOCAB = ['amber', 'birch', 'cedar', 'dune', 'ember', 'fjord'];
    interface Generated {
      namespace: string;
      words: string[];
      layer: Memory['layer'];
      tags: string[];
      thread: string | null;
      supersede: boolean;
    }
    const record: fc.Arbitrary<Generated> = fc.record({
      namespace: fc.constantFrom('a', 'b'),
      words: fc.array(fc.constantFrom(...VOCAB), { minLength: 1, maxLength: 5 }),
      layer: fc.constantFrom<Memory['layer']>('semantic', 'episodic', 'procedural'),
      tags: fc.subarray(['x', 'y']),
      thread: fc.constantFrom<string | null>(null, 'shared-thread'),
      supersede: fc.boolean(),
    });

    /** Store the records in order; one may supersede the last visible record of its namespace. Returns the stored memories. */
    async function storeAll(store: MemoryStore, records: readonly Generated[]): Promise<Memory[]> {
      const stored: Memory[] = [];
      for (const r of records) {
        const previous = r.supersede ? stored.filter((m) => m.namespace === r.namespace && m.superseded_by === null).at(-1) : undefined;
        const [m] = await remember(
          store,
          newMemory({ content: r.words.join(' '), namespace: r.namespace, layer: r.layer, tags: r.tags, thread_id: r.thread, supersedes: previous?.id ?? null }),
        );
        if (previous) previous.superseded_by = m!.id;
        stored.push(m!);
      }
      return stored;
    }

    /** Hits as the records' places among namespace b's (ids and doc ids differ between stores), with their scores and matched counts. */
    async function comparable(store: MemoryStore, bRecords: readonly Memory[], hits: readonly KeywordHit[]) {
      const place = new Map(bRecords.map((m, i) => [m.id, `b record ${i}`]));
      const entities = await entitiesOf(store, hits);
      return hits.map((hit, i) => ({ record: place.get(entities[i]!) ?? entities[i], score: hit.score, matched: hit.matched }));
    }

    it('records of one namespace never reach a search, listing or check of another; a confined search scores as if the namespace were alone', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(record, { minLength: 1, maxLength: 14 }),
          fc.array(fc.constantFrom(...VOCAB), { minLength: 1, maxLength: 3 }),
          fc.boolean(),
          async (records, terms, include_superseded) => {
            const mixed = await h.openFresh();
            const alone = await h.openFresh();
            try {
              const stored = await storeAll(mixed.store, records);
              const inB = new Set(stored.filter((m) => m.namespace === 'b').map((m) => m.id));
              const f = filters({ namespace: 'b', include_superseded });
              const onlyB = async (what: string, hits: ReadonlyArray<{ doc_id: number }>) => {
                for (const id of await entitiesOf(mixed.store, hits)) expect(inB.has(id), `${what} returned ${id}`).toBe(true);
              };
              const everyDoc = [...(await docIds(mixed.store)).values()];
              for (const confined of [false, true]) {
                await onlyB(`searchKeyword (confined ${confined})`, await mixed.store.searchKeyword({ terms, filters: { ...f, confined }, limit: 50 }));
                await onlyB(`searchWindows (confined ${confined})`, await mixed.store.searchWindows({ terms, filters: { ...f, confined }, limit: 50 }));
              }
              await onlyB('recent', await mixed.store.recent({ filters: f, limit: 50 }));
              await onlyB('filterDocIds', (await mixed.store.filterDocIds(f)).map((doc_id) => ({ doc_id })));
              await onlyB('admit', [...(await mixed.store.admit(everyDoc, f))].map((doc_id) => ({ doc_id })));
              const bDocs = (await mixed.store.recent({ filters: filters({ namespace: 'b', include_superseded: true }), limit: 50 })).map((hit) => hit.doc_id);
              await onlyB('threadNeighbours', await mixed.store.threadNeighbours(bDocs, 3));

              // The oracle: namespace b's records alone, stored in the same order.
              const mixedB = stored.filter((m) => m.namespace === 'b');
              const aloneB = await storeAll(alone.store, records.filter((r) => r.namespace === 'b'));
              const cf: StoreFilters = { ...f, confined: true };
              expect(await comparable(mixed.store, mixedB, await mixed.store.searchKeyword({ terms, filters: cf, limit: 50 }))).toEqual(
                await comparable(alone.store, aloneB, await alone.store.searchKeyword({ terms, filters: cf, limit: 50 })),
              );
              expect(await comparable(mixed.store, mixedB, await mixed.store.searchWindows({ terms, filters: cf, limit: 50 }))).toEqual(
                await comparable(alone.store, aloneB, await alone.store.searchWindows({ terms, filters: cf, limit: 50 })),
              );
            } finally {
              await mixed.close();
              await alone.close();
            }
          },
        ),
        { numRuns: 25 },
      );
    });
  });
}

/** A goal with one step in namespace alpha, for tests that need one among other records. */
async function createGoalDoc(store: MemoryStore): Promise<{ goal: string; step: string }> {
  const goal = goalRecord({ title: 'a goal among the records' });
  const plan = planRecord(1, [stepRecord(1, 'its step')]);
  await store.createGoal(goal, indexed(goal.title), plan);
  return { goal: goal.id, step: plan.steps[0]!.id };
}
