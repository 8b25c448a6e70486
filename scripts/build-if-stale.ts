/**
 * `npm start`'s prestart: compile src/ into dist/ only when dist/ is missing or
 * older than the sources, so a start without changes does not wait for tsc.
 *
 *   npx tsx scripts/build-if-stale.ts
 */
import { buildIfStale } from './lib/build.js';

try {
  buildIfStale();
} catch {
  // tsc has printed its errors on stderr already.
  process.stderr.write('build failed: fix the errors above, then start again\n');
  process.exitCode = 1;
}
