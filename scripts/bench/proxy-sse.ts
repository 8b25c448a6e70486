/**
 * Legacy SSE through the shipped proxy rules: the built server over HTTP on a
 * temporary data directory with a replica name, haproxy in front of it with
 * the configuration of deploy/haproxy.cfg (scripts/lib/haproxy-config.ts),
 * and an SDK client (SSEClientTransport) calling memory_stats one call after
 * another, directly and through the proxy, alternating rounds.
 *
 *   npm run bench:proxy -- [--calls 200] [--rounds 2] [--without-no-delay]
 *
 * --without-no-delay leaves `option http-no-delay` out of the proxy's
 * configuration, to see what it is there for. Prints JSON: p50/p95/p99 per
 * path. Needs haproxy (/usr/sbin/haproxy or on PATH).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { buildIfStale, CLI } from '../lib/build.js';
import { freePort } from '../lib/free-port.js';
import { haproxyBinary } from '../lib/haproxy.js';
import { haproxyConfig, SHIPPED_HAPROXY } from '../lib/haproxy-config.js';
import { log } from './servers.js';
import { describeMachine, summarize } from './stats.js';

const REPLICA = 'pinak1';

/** Never leave a child behind, whatever ends this process. */
function guard(child: ChildProcess): () => Promise<void> {
  const exited = once(child, 'exit');
  const kill = (): void => void child.kill('SIGKILL');
  process.on('exit', kill);
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    process.off('exit', kill);
  };
}

async function startServer(dataDir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, '--transport', 'http', '--port', '0', '--workers', '1', '--embed-model', 'none', '--allowed-hosts', '127.0.0.1', '--replica-name', REPLICA], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stop = guard(child);
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 30 s: ${stderr}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr.slice(-2000)}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
      const line = stderr.split('\n').find((l) => l.includes('serving MCP over HTTP'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
  });
  return { port, stop };
}

async function startProxy(dir: string, serverPort: number, withoutNoDelay: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  let config = haproxyConfig({ ...SHIPPED_HAPROXY, bind: `127.0.0.1:${port}`, servers: [{ name: REPLICA, address: `127.0.0.1:${serverPort}` }], resolveAtRunTime: false });
  if (withoutNoDelay) config = config.replace(/^\s+option http-no-delay\n/m, '');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = spawn(haproxyBinary(), ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'ignore'] });
  const stop = guard(child);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      socket.unref();
    });
    if (open) return { port, stop };
    if (Date.now() > deadline) throw new Error('haproxy did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function timeCalls(origin: string, calls: number): Promise<number[]> {
  const client = new Client({ name: 'bench-proxy', version: '1' });
  await client.connect(new SSEClientTransport(new URL('/sse', origin)));
  const ms: number[] = [];
  for (let i = 0; i < calls; i += 1) {
    const start = performance.now();
    const result = await client.callTool({ name: 'memory_stats', arguments: {} });
    ms.push(performance.now() - start);
    if (result.isError) throw new Error(`memory_stats failed: ${JSON.stringify(result.content)}`);
  }
  await client.close();
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { calls: { type: 'string', default: '200' }, rounds: { type: 'string', default: '2' }, 'without-no-delay': { type: 'boolean', default: false } },
  });
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error('--calls and --rounds take positive whole numbers');
  buildIfStale();
  const dir = mkdtempSync(join(tmpdir(), 'pinak-bench-proxy-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const server = await startServer(join(dir, 'data'));
    stops.push(server.stop);
    const proxy = await startProxy(dir, server.port, values['without-no-delay']);
    stops.push(proxy.stop);
    const direct: number[] = [];
    const proxied: number[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      log(`round ${round}/${rounds}: ${calls} calls directly, then ${calls} through the proxy`);
      direct.push(...(await timeCalls(`http://127.0.0.1:${server.port}`, calls)));
      proxied.push(...(await timeCalls(`http://127.0.0.1:${proxy.port}`, calls)));
    }
    const report = {
      benchmark: 'legacy SSE tool calls (memory_stats), directly and through haproxy with the shipped rules',
      option_http_no_delay: !values['without-no-delay'],
      machine: describeMachine(),
      direct_ms: summarize(direct),
      through_proxy_ms: summarize(proxied),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:proxy: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
