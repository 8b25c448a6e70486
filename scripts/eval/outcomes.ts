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
 * merged; reflection notes; and each family's experience.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIfStale } from '../lib/build.js';
import { log, startServer, waitForIndex } from '../bench/servers.js';
import { runOutcomeScenario } from './outcomes-scenario.js';

buildIfStale();
const dir = mkdtempSync(join(tmpdir(), 'pinak-eval-outcomes-'));
const server = await startServer(dir);
try {
  log('running 30 goals in 5 families, then a new goal of each');
  await waitForIndex(server.client);
  const started = performance.now();
  const figures = await runOutcomeScenario(server.client);
  process.stdout.write(`${JSON.stringify({ eval: 'outcomes', seconds: Math.round(performance.now() - started) / 1000, ...figures }, null, 2)}\n`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
