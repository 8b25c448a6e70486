/** A real haproxy with the shipped rules (scripts/lib/haproxy-config.ts) in front of loopback Pinak servers, for the tests and the benchmarks. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haproxyConfig, type HaproxyConfigOptions } from './haproxy-config.js';
import { freePort } from './free-port.js';

/** The haproxy binary: Debian's, else the first on PATH; the tests need a real one (CI installs it). */
export function haproxyBinary(): string {
  for (const dir of ['/usr/sbin', ...(process.env.PATH ?? '').split(':')]) {
    if (dir !== '' && existsSync(join(dir, 'haproxy'))) return join(dir, 'haproxy');
  }
  throw new Error('haproxy is not installed: apt-get install haproxy (.ci/run installs it)');
}

export interface Backend {
  /** The server's name in the proxy, which is the replica name it was started with (if any). */
  name: string;
  port: number;
}

export interface Haproxy {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  /** The haproxy process. */
  pid: number;
  /** The configuration it runs. */
  config: string;
  /** What haproxy printed (its request log goes to stdout). */
  output(): string;
  stop(): Promise<void>;
}

/** Health checks for tests: a replica is taken out within half a second of failing its /readyz. */
export const FAST_CHECKS: HaproxyConfigOptions['check'] = { inter: '200ms', fall: 2, rise: 1 };

/**
 * A real haproxy in the foreground (-db) on a free loopback port, round robin
 * over the given Pinak servers on 127.0.0.1, with the rules of
 * deploy/haproxy.cfg (both come from scripts/lib/haproxy-config.ts); resolves
 * once its port answers HTTP.
 */
export async function startHaproxy(backends: readonly Backend[], check: HaproxyConfigOptions['check'] = FAST_CHECKS): Promise<Haproxy> {
  const binary = haproxyBinary();
  const dir = mkdtempSync(join(tmpdir(), 'pinak-haproxy-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  // A port found free may be taken before haproxy binds it: try another.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const config = haproxyConfig({
      bind: `127.0.0.1:${port}`,
      servers: backends.map((backend) => ({ name: backend.name, address: `127.0.0.1:${backend.port}` })),
      check,
      resolveAtRunTime: false,
    });
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = once(child, 'exit');
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      cleanup();
    };
    const deadline = Date.now() + 10_000;
    let answering = false;
    while (!answering && child.exitCode === null && Date.now() < deadline) {
      answering = await answers(port);
      if (!answering) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (answering) return { url: `http://127.0.0.1:${port}`, port, pid: child.pid!, config, output: () => output, stop };
    await stop();
    if (attempt >= 3 || !/cannot bind|Address already in use/i.test(output)) throw new Error(`haproxy did not start:\n${output}`);
  }
}

/** Whether an HTTP request to the port gets any response (haproxy answers even when no server is up). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

