import type { Embedder } from '../embeddings/embedder.js';
import type { Logger } from '../logging.js';
import type { MemoryStore } from '../store/store.js';
import { reembedInBackground } from './reembed.js';

/** After a write stored records without vectors, wait this long before re-embedding them (their transaction commits meanwhile). */
const REEMBED_AFTER_MISS_MS = 1000;
/** …and look once more this long after a pass ends, in case one committed later than that. */
const REEMBED_SETTLE_MS = 5000;

/**
 * Background re-embedding of a runtime's records lacking a vector of the
 * active model: one pass when an embedder becomes active, and again whenever
 * a write had to store records without vectors (an embedding service that
 * did not answer). At most one pass runs at a time.
 */
export class ReembedScheduler {
  private embedder: Embedder | null = null;
  private pass: Promise<number> | null = null;
  private missedAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: MemoryStore,
    private readonly logger: Logger,
    /** Records per batch; null: never re-embed (a runtime that only reads). */
    private readonly batch: number | null,
    private readonly signal: AbortSignal,
    /** Called after each batch stored its vectors (the vector index catches up). */
    private readonly onProgress: () => void,
  ) {}

  /** Re-embed with this embedder from now on, starting a pass at once. */
  activate(embedder: Embedder): Promise<number> {
    this.embedder = embedder;
    return this.run();
  }

  /** A write stored records without vectors: re-embed them shortly. */
  readonly missed = (): void => {
    this.missedAt = Date.now();
    this.schedule(REEMBED_AFTER_MISS_MS);
  };

  /** The pass running now, if any. */
  get running(): Promise<number> | null {
    return this.pass;
  }

  /** Cancel a pass planned for later (the signal stops one running). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private run(): Promise<number> {
    const embedder = this.embedder;
    if (!embedder || !this.batch || this.signal.aborted) return Promise.resolve(0);
    if (this.pass) return this.pass;
    const current = reembedInBackground(this.store, embedder, this.logger, { batch: this.batch, signal: this.signal, onProgress: this.onProgress }).catch((error: unknown) => {
      this.logger.error({ err: error }, 're-embedding stopped');
      return 0;
    });
    this.pass = current.finally(() => {
      this.pass = null;
      // A write that stored records without vectors may have committed after this pass last looked.
      if (Date.now() - this.missedAt < REEMBED_SETTLE_MS * 2) this.schedule(REEMBED_SETTLE_MS);
    });
    return this.pass;
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delayMs);
    this.timer.unref();
  }
}
