import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, expect } from 'vitest';
import { spawnHttp, type HttpServer } from './spawn-http.js';
import { runCli, runCliAsync } from './spawn-server.js';
import { makeTempDir } from './temp-dir.js';

export interface HttpHarness {
  /** A fresh data directory, removed after the test. */
  tempDataDir(): string;
  /** A server on `dataDir` (after the harness's own args), killed after the test if it is still running. */
  start(dataDir: string, args?: string[], env?: Record<string, string>): Promise<HttpServer>;
  /** Awaits an opened client and closes it after the test. */
  connect<T extends { client: Client }>(opened: Promise<T>): Promise<T>;
  /** Runs `cleanup` after the test, before anything registered earlier. */
  defer(cleanup: () => Promise<unknown> | unknown): void;
}

/**
 * The shared setup of the HTTP end-to-end tests: registers an `afterEach` that
 * runs every cleanup of the test in reverse order. `args` go before each
 * `start`'s own arguments (e.g. `['--embed-model', 'none']`).
 */
export function useHttpHarness(prefix: string, options: { args?: string[] } = {}): HttpHarness {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const defer = (cleanup: () => Promise<unknown> | unknown): void => {
    cleanups.push(cleanup);
  };
  return {
    tempDataDir() {
      const { dir, cleanup } = makeTempDir(prefix);
      defer(cleanup);
      return dir;
    },
    async start(dataDir, args = [], env = {}) {
      const server = await spawnHttp(dataDir, [...(options.args ?? []), ...args], env);
      defer(() => server.stop('SIGKILL'));
      return server;
    },
    async connect(opened) {
      const connection = await opened;
      defer(() => connection.client.close().catch(() => {}));
      return connection;
    },
    defer,
  };
}

export const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A raw JSON-RPC `initialize` request body. */
export function initializeBody(id = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
}

/** `pinak-memory audit export` of a data directory (one tenant, or the local one), parsed from JSONL. */
export function auditOf(dataDir: string, tenant?: string): Array<Record<string, any>> {
  return auditRows(runCli(['--data-dir', dataDir, 'audit', 'export', ...(tenant ? ['--tenant', tenant] : [])]));
}

/** auditOf without blocking this process: for a trail read while HTTP clients stay connected (see runCliAsync). */
export async function auditOfAsync(dataDir: string, tenant?: string): Promise<Array<Record<string, any>>> {
  return auditRows(await runCliAsync(['--data-dir', dataDir, 'audit', 'export', ...(tenant ? ['--tenant', tenant] : [])]));
}

function auditRows(result: { status: number | null; stdout: string; stderr: string }): Array<Record<string, any>> {
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
}
