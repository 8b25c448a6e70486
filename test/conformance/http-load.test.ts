/**
 * A short run of the HTTP load benchmark (scripts/bench/http-load.ts): many
 * concurrent Streamable HTTP sessions doing mixed calls against the built
 * server. Correctness only: no errors, every tool of the mix answered, and
 * every acknowledged write stored. Speed lives in `npm run bench:http`.
 */
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../scripts/bench/http-load.js';

describe('the built server under concurrent HTTP sessions', () => {
  // The lean client (`--client raw`) speaks the protocol itself: the same checks hold through it.
  it.each(['sdk', 'raw'] as const)('10 sessions of mixed calls for 3 s (%s client): no errors, nothing lost', async (client) => {
    const report = await runLoad({ seconds: 3, sessions: 10, memories: 300, client });

    expect(report.error_samples).toEqual([]);
    expect(report.errors).toBe(0);
    expect(report.calls).toBeGreaterThan(10);
    for (const op of ['search_memory:hybrid', 'search_memory:keyword', 'remember', 'get_memory']) {
      expect(report.latency_ms[op].n, op).toBeGreaterThan(0);
    }
    expect(report.latency_ms.overall.n).toBe(report.calls);
    const stored = report.memories_stored;
    expect(stored.seeded).toBe(300);
    expect(stored.total_reported_by_server).toBe(stored.seeded + stored.remembered_during_load);
  }, 60_000);

  // --independent: the same load dealt over servers that share nothing, each seeded alike.
  it('dealt over two servers sharing nothing: both seeded, both called, nothing lost', async () => {
    const report = await runLoad({ seconds: 3, sessions: 10, memories: 200, client: 'raw', independent: 2 });

    expect(report.error_samples).toEqual([]);
    expect(report.errors).toBe(0);
    expect(report.settings.independent_servers).toBe(2);
    expect(report.server_processes).toBe(2);
    const stored = report.memories_stored;
    expect(stored.seeded).toBe(400);
    expect(stored.remembered_during_load).toBeGreaterThan(0);
    expect(stored.total_reported_by_server).toBe(stored.seeded + stored.remembered_during_load);
  }, 60_000);
});
