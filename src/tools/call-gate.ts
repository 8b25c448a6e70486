import { EventEmitter, once } from 'node:events';

/**
 * Counts tool calls in flight so shutdown can finish them: once closing, new
 * calls are refused with a clear error, and `close` waits for the running ones
 * (up to a deadline) before the database is closed under them.
 */
export class CallGate {
  private inFlight = 0;
  private closing = false;
  private readonly idle = new EventEmitter();

  /** Start a call; false when the server is shutting down. */
  enter(): boolean {
    if (this.closing) return false;
    this.inFlight += 1;
    return true;
  }

  leave(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) this.idle.emit('idle');
  }

  get active(): number {
    return this.inFlight;
  }

  /** Refuse new calls and wait for running ones; resolves false if the deadline passed first. */
  async close(timeoutMs: number): Promise<boolean> {
    this.closing = true;
    if (this.inFlight === 0) return true;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      await once(this.idle, 'idle', { signal: deadline });
      return true;
    } catch {
      return false;
    }
  }
}
