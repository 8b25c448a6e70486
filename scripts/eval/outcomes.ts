/**
 * Learning from outcomes, measured through the tools: the built server over
 * stdio on a temporary data directory (the bundled model, as by default), an
 * agent running 30 goals in 5 families and then a new goal of each family
 * (see outcomes-scenario.ts).
 *
 *   npm run eval:outcomes
 *
 * Prints JSON: how many families' new goals got a successful lesson of the
 * family in the experience's top 3, had their failures flagged with what went
 * wrong, and saw only their family's goals; lessons said, distinct, stored and
 * merged; reflection notes; each family's experience; and, from the server
 * over HTTP with three API keys of one tenant (recall is attributed to the
 * principal that ends a goal, so the two agents need keys of their own), the
 * ranks of a lesson recalled before two successes and of one recalled before
 * two failures for the same query, before those goals and after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIfStale } from '../lib/build.js';
import { connectWithKey, createKey, log, startHttpServer, startServer, waitForIndex } from '../bench/servers.js';
import { runOutcomeScenario, runTrackRecordScenario, type TrackRecordFigures } from './outcomes-scenario.js';

buildIfStale();
const dir = mkdtempSync(join(tmpdir(), 'pinak-eval-outcomes-'));
const server = await startServer(dir);
try {
  log('running 30 goals in 5 families, then a new goal of each');
  await waitForIndex(server.client);
  const started = performance.now();
  const figures = await runOutcomeScenario(server.client);
  log('ranking two lessons by their track record, with two agents of their own');
  figures.track_record_ranking = await trackRecordRanking(dir);
  process.stdout.write(`${JSON.stringify({ eval: 'outcomes', seconds: Math.round(performance.now() - started) / 1000, ...figures }, null, 2)}\n`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}

/** The track-record figure, through the built server over HTTP with a key for the reader and one for each agent. */
async function trackRecordRanking(dataDir: string): Promise<TrackRecordFigures> {
  const [reader, succeeding, failing] = ['reader', 'succeeding', 'failing'].map(() => createKey(dataDir, 'track', 'writer'));
  const http = await startHttpServer(dataDir);
  const clients = await Promise.all([reader!, succeeding!, failing!].map((key, i) => connectWithKey(http.origin, key, `eval-${i}`)));
  try {
    await waitForIndex(clients[0]!);
    return await runTrackRecordScenario({ reader: clients[0]!, succeeding: clients[1]!, failing: clients[2]! });
  } finally {
    for (const client of clients) await client.close();
    await http.stop();
  }
}
