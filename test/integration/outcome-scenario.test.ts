import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILIES, RESULTS, runOutcomeScenario, runTrackRecordScenario } from '../../scripts/eval/outcomes-scenario.js';
import { resolveModel } from '../../src/embeddings/model-source.js';
import { TransformersEmbedder } from '../../src/embeddings/transformers-embedder.js';
import { linkedServer, type Linked } from '../helpers/in-memory-server.js';

// The bundled model, as the server runs by default: rewordings are told apart by meaning too.
let embedder: TransformersEmbedder;
let linked: Linked;
beforeAll(async () => {
  const bundled = resolveModel({ name: 'bundled', allowRemoteModels: false, dtype: 'fp32' });
  embedder = await TransformersEmbedder.start({ ...bundled.options, id: bundled.id, workers: 1, maxBatch: 16 });
  linked = await linkedServer({ embedder });
});
afterAll(async () => {
  await linked?.close();
  await embedder?.close();
});

describe('an agent learning from outcomes (the eval:outcomes scenario)', () => {
  it('30 goals in 5 families: each new goal gets its family\'s successful lessons in the top 3 and its failures flagged; lessons said again are merged', { timeout: 120_000 }, async () => {
    const figures = await runOutcomeScenario(linked.client);
    expect(figures.goals).toBe(30);
    expect(figures.success_lesson_in_top3).toBe(FAMILIES.length);
    expect(figures.failures_flagged).toBe(FAMILIES.length);
    expect(figures.experience_in_family).toBe(FAMILIES.length);
    // Every lesson stored once, however often it was said.
    expect(figures.lessons_stored).toBe(figures.distinct_lessons);
    expect(figures.lessons_merged).toBe(figures.lessons_recorded - figures.distinct_lessons);
    // The first failure of each family recorded no lesson.
    expect(figures.reflection_notes).toBe(FAMILIES.length);
    expect(RESULTS).toHaveLength(6);
  });

  it('a lesson recalled before two successes comes to rank above one recalled before two failures for the same query, and says why', { timeout: 120_000 }, async () => {
    const agent = (id: string) => linked.clientAs({ id, tenant: 'local', role: 'writer', namespaces: null, remoteAddress: null });
    const figures = await runTrackRecordScenario({ reader: linked.client, succeeding: await agent('agent-succeeding'), failing: await agent('agent-failing') });
    // With no evidence the avoided lesson (shorter) ranks first: the track record turns the near tie.
    expect(figures.before).toEqual({ followed: 2, avoided: 1 });
    expect(figures.after).toEqual({ followed: 1, avoided: 2 });
    expect(figures.followed_track_record).toBe('recalled before 2 outcomes: 2 successes');
    expect(figures.avoided_track_record).toBe('recalled before 2 outcomes: 2 failures');
  });
});
