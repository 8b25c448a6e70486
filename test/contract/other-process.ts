import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SharedDatabase } from './memory-store-contract.js';

const SCRIPT = fileURLToPath(new URL('./lease-holder.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 20_000;

/** Where a child process finds the backend's `open`: a module (URL or path) and the name it is exported under. */
export interface OpenInChildProcess {
  readonly module: string | URL;
  readonly exportName: string;
}

/** Leases held through a store another process opened on the same database (see lease-holder.ts). */
export interface OtherProcess {
  acquireLease(name: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string): Promise<void>;
  /** Close its store and wait for it to exit. */
  close(): Promise<void>;
}

export async function startOtherProcess(where: OpenInChildProcess, database: SharedDatabase): Promise<OtherProcess> {
  const moduleUrl = where.module instanceof URL ? where.module.href : where.module;
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', SCRIPT, moduleUrl, where.exportName, JSON.stringify(database)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const failAll = (why: string): void => {
    for (const { reject } of waiting.values()) reject(new Error(`${why}; its stderr: ${stderr}`));
    waiting.clear();
  };
  void exited.then((code) => failAll(`the other process exited with code ${code}`));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const reply = JSON.parse(line) as { id: number; value?: unknown; error?: string };
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.error !== undefined) pending?.reject(new Error(`in the other process: ${reply.error}`));
    else pending?.resolve(reply.value);
  });

  let next = 0;
  const request = (body: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = (next += 1);
      waiting.set(id, { resolve, reject });
      child.stdin.write(`${JSON.stringify({ id, ...body })}\n`);
    });

  const ready = new Promise<unknown>((resolve, reject) => waiting.set(0, { resolve, reject }));
  const timer = setTimeout(() => failAll(`the other process did not open its store within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
  try {
    await ready;
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    acquireLease: async (name, ttlMs) => (await request({ op: 'acquire', name, ttlMs })) as boolean,
    releaseLease: async (name) => {
      await request({ op: 'release', name });
    },
    close: async () => {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`the other process exited with code ${code}: ${stderr}`);
    },
  };
}
