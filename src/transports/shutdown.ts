import type { Runtime } from '../runtime.js';

/** A running transport, as shutdown sees it. */
export interface Service {
  /** Resolves, with the reason, when the service ends by itself (stdio: the client closed the connection). */
  readonly done: Promise<string>;
  /** Take no new connections or sessions. */
  stopAccepting(): Promise<void>;
  /** End every open session and connection. */
  closeSessions(): Promise<void>;
}

/**
 * The one shutdown sequence for every transport, run once whatever asks for it
 * (a signal, the client leaving): stop accepting, let the tool calls in flight
 * finish (new ones are refused with a clear error) up to `graceMs`, close the
 * sessions, then close the runtime (vector snapshot, SQLite). Resolves when
 * everything is closed; the caller exits the process.
 */
export function shutdownOnce(runtime: Runtime, service: Service, graceMs: number): (reason: string) => Promise<void> {
  let running: Promise<void> | null = null;
  const run = async (reason: string): Promise<void> => {
    runtime.logger.info({ reason, inFlight: runtime.gate.active }, 'shutting down');
    await service.stopAccepting();
    if (!(await runtime.gate.close(graceMs))) runtime.logger.warn({ inFlight: runtime.gate.active }, 'calls still running at the shutdown deadline');
    // Answers to the last calls are sent just after the calls leave the gate.
    await new Promise((resolve) => setImmediate(resolve));
    await service.closeSessions();
    await runtime.close();
  };
  return (reason) => (running ??= run(reason));
}
