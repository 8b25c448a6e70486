import type { MemoryStore } from '../store/store.js';

/** What every use case needs: the store, the limits and the default namespace. */
export interface MemoryContext {
  readonly store: MemoryStore;
  readonly defaultNamespace: string;
  readonly limits: {
    readonly maxContentBytes: number;
    readonly maxMetadataBytes: number;
  };
  /** The current time as an ISO string; replaceable in tests. */
  now(): string;
}

/** Who is calling: used as the default `source` of what they store. */
export interface Caller {
  readonly clientName: string | null;
}
