import { build } from '../../scripts/lib/build.js';
import { testPostgres } from './pg-cluster.js';

/**
 * Before any test file runs: build once (the e2e tier runs the built CLI),
 * and make sure the tests have a PostgreSQL server, named to every worker by
 * PINAK_TEST_DATABASE_URL: the one that variable already names, else a
 * throwaway cluster started here and removed at the end.
 */
export default async function setup(): Promise<() => void> {
  build();
  const postgres = await testPostgres();
  process.env.PINAK_TEST_DATABASE_URL = postgres.url;
  // Should the run end without the teardown (an interrupted run), the cluster goes all the same.
  process.once('exit', postgres.stop);
  return () => {
    process.off('exit', postgres.stop);
    postgres.stop();
  };
}
