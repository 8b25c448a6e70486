import { afterEach, beforeEach, describe } from 'vitest';
import type { MemoryStore } from '../../src/store/store.js';
import { auditAndExportContract } from './contract-audit-export.js';
import { recordsContract } from './contract-records.js';
import { keywordRewriteContract } from './contract-keyword-rewrite.js';
import { searchContract } from './contract-search.js';
import { vectorsAndLeasesContract } from './contract-vectors-leases.js';
import { startOtherProcess, type OpenInChildProcess, type OtherProcess } from './other-process.js';

/**
 * The behaviour every MemoryStore must show, as the interface's comments
 * define it and the callers in src/memory/ rely on it: one suite, run against
 * each backend (test/integration/store-contract-*.test.ts).
 */

/** A JSON value: what names a database, so that a child process can be told it too (a file path, a connection string…). */
export type SharedDatabase = string | number | boolean | null | readonly SharedDatabase[] | { readonly [key: string]: SharedDatabase };

export interface OpenedStore {
  readonly store: MemoryStore;
  /** The database under this store: give it to `open` to open another store on it. */
  readonly database: SharedDatabase;
  /** Close this store only; the database and its data stay (the backend removes them when its test file ends). */
  close(): Promise<void>;
}

/**
 * Open a store. Without an argument: on a new, empty database of its own.
 * With the `database` of a store opened before: another store on that same
 * database (another connection, as a second server process would have), whether
 * the first is still open or closed already; what either writes, the other reads.
 */
export type OpenStore = (database?: SharedDatabase) => Promise<OpenedStore>;

export interface ContractOptions {
  /**
   * Where a child process finds the same `open` (a module URL and its export's
   * name): leases are held per process, so the lease tests open the test's
   * database in a second process. The module must not run tests when imported.
   */
  readonly openInChildProcess: OpenInChildProcess;
}

/** What each test gets: a store on a new database, and ways to open more, all closed after the test. */
export interface Harness {
  readonly store: MemoryStore;
  readonly opened: OpenedStore;
  /** Another store on the test's database. */
  openShared(): Promise<OpenedStore>;
  /** A store on a new, empty database. */
  openFresh(): Promise<OpenedStore>;
  /** A store on the test's database in another process, for leases. */
  otherProcess(): Promise<OtherProcess>;
}

/** A store whose close runs once, however often it is asked (a test may close it before the harness does). */
function closingOnce(opened: OpenedStore): OpenedStore {
  let closing: Promise<void> | undefined;
  return { store: opened.store, database: opened.database, close: () => (closing ??= opened.close()) };
}

export function describeMemoryStoreContract(label: string, open: OpenStore, options: ContractOptions): void {
  describe(`MemoryStore contract: ${label}`, () => {
    let current: OpenedStore | undefined;
    const toClose: Array<() => Promise<void>> = [];

    const track = async (opening: Promise<OpenedStore>): Promise<OpenedStore> => {
      const opened = closingOnce(await opening);
      toClose.push(() => opened.close());
      return opened;
    };

    const harness: Harness = {
      get store() {
        if (!current) throw new Error('no store: the harness is used outside a test');
        return current.store;
      },
      get opened() {
        if (!current) throw new Error('no store: the harness is used outside a test');
        return current;
      },
      openShared: () => track(open(harness.opened.database)),
      openFresh: () => track(open()),
      otherProcess: async () => {
        const other = await startOtherProcess(options.openInChildProcess, harness.opened.database);
        toClose.push(() => other.close());
        return other;
      },
    };

    beforeEach(async () => {
      current = await track(open());
    });

    afterEach(async () => {
      // The last opened first: stores on a test's database before the store that made it.
      const errors: unknown[] = [];
      for (const close of toClose.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          errors.push(error);
        }
      }
      current = undefined;
      if (errors.length > 0) throw errors[0];
    });

    recordsContract(harness);
    searchContract(harness);
    keywordRewriteContract(harness);
    vectorsAndLeasesContract(harness);
    auditAndExportContract(harness);
  });
}
