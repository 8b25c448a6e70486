/**
 * The memory browser's pages: `pinak-memory ui` (the built CLI, bundled
 * embedding model) on a temporary data directory holding generated
 * memories, a goal tree and an audit trail; the browser signs in by the
 * one-time link and each page is fetched one request after another, its
 * whole HTML read (no browser: the server's time to answer).
 *
 *   npm run bench:ui -- [--memories 5000] [--requests 50]
 *
 * Prints JSON: p50/p95/p99 per page, and the page sizes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { buildIfStale, CLI } from '../lib/build.js';
import { log } from './servers.js';
import { describeMachine, summarize } from './stats.js';

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango'.split(' ');
const sentence = (i: number): string => Array.from({ length: 12 }, (_, j) => WORDS[(i * 7 + j * 13) % WORDS.length]).join(' ') + ` note ${i}`;

async function startUi(dataDir: string): Promise<{ link: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'ui', '--data-dir', dataDir], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => void child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const link = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pinak-memory ui printed no address within 30 s: ${err}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`pinak-memory ui exited (${code}): ${err}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.trim());
      }
    });
  });
  return { link, child };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { memories: { type: 'string', default: '5000' }, requests: { type: 'string', default: '50' } } });
  const memories = Number(values.memories);
  const requests = Number(values.requests);
  if (!Number.isInteger(memories) || memories < 10 || !Number.isInteger(requests) || requests < 1) throw new Error('--memories (at least 10) and --requests take whole numbers');
  buildIfStale();
  const dir = mkdtempSync(join(tmpdir(), 'pinak-bench-ui-'));
  const { link, child } = await startUi(join(dir, 'data'));
  try {
    const origin = new URL(link).origin;
    const client = new Client({ name: 'bench-ui', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', origin)));
    log(`storing ${memories} memories`);
    let someId = '';
    for (let i = 0; i < memories; i += 100) {
      const batch = Array.from({ length: Math.min(100, memories - i) }, (_, j) => ({ content: sentence(i + j), layer: (['semantic', 'episodic', 'procedural'] as const)[(i + j) % 3], thread_id: `t${Math.floor((i + j) / 20)}`, tags: [`tag${(i + j) % 10}`] }));
      const result = await client.callTool({ name: 'remember', arguments: { memories: batch } });
      someId = (result.structuredContent as { stored: Array<{ id: string }> }).stored[0]!.id;
    }
    let goalId = '';
    for (let g = 0; g < 20; g++) {
      const result = await client.callTool({ name: 'remember_goal', arguments: { title: `goal ${g} ${sentence(g)}`.slice(0, 200), plan: [{ title: 'one' }, { title: 'two' }], ...(goalId && g % 4 ? { parent_goal_id: goalId } : {}) } });
      if (g % 4 === 0) goalId = (result.structuredContent as { goal: { id: string } }).goal.id;
    }
    await client.close();

    const start = await fetch(link, { redirect: 'manual' });
    const cookie = /pinak_ui=[^;]+/.exec(start.headers.get('set-cookie') ?? '')?.[0];
    if (!cookie) throw new Error('the one-time link did not sign in');
    const pages: Record<string, string> = {
      search_empty: '/ui/',
      search_words: '/ui/?q=alpha+bravo+hotel&limit=20',
      search_filtered: '/ui/?q=kilo+lima&layer=episodic&tags_any=tag3&limit=20',
      memory: `/ui/memory/${someId}`,
      goals: '/ui/goals',
      goal: `/ui/goal/${goalId}`,
      audit: '/ui/audit',
      charts: '/ui/charts',
    };
    const report: Record<string, unknown> = {};
    for (const [name, path] of Object.entries(pages)) {
      log(`${name}: ${requests} requests`);
      const ms: number[] = [];
      let bytes = 0;
      for (let i = 0; i < requests; i++) {
        const t = performance.now();
        const response = await fetch(new URL(path, origin), { headers: { cookie }, redirect: 'manual' });
        const text = await response.text();
        ms.push(performance.now() - t);
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${text.slice(0, 300)}`);
        bytes = text.length;
      }
      report[name] = { ...summarize(ms), html_bytes: bytes };
    }
    process.stdout.write(`${JSON.stringify({ benchmark: 'memory browser pages, one request after another', memories, machine: describeMachine(), pages_ms: report }, null, 2)}\n`);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:ui: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
