/** A real redis-server on a loopback port of its own, for the tests and the benchmarks. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** What the tests are told when there is no redis-server to run. */
export const NO_REDIS_MESSAGE = 'the Redis tests need redis-server on the PATH: apt-get install redis-server';

/** Whether a redis-server can be started here. */
export function redisServerAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'redis-server')));
}

/** A real redis-server on a loopback port of its own, keeping nothing on disk. */
export interface TestRedis {
  port: number;
  /** redis://127.0.0.1:PORT (with the password when one was asked for). */
  url: string;
  /** Stop the server (SIGTERM) and wait for it to exit; its data go with it. */
  halt(): Promise<void>;
  /** Start it again on the same port, empty; resolves once it answers. */
  resume(): Promise<void>;
  /** Stop the process where it is (SIGSTOP): connections stay open, nothing is answered; `thaw` (SIGCONT) lets it go on. */
  freeze(): void;
  thaw(): void;
  /** Send one command with redis-cli and return its output, trimmed. */
  cli(...args: string[]): string;
  /** Stop it if running and remove its directory; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Start redis-server on a free 127.0.0.1 port, with no persistence
 * (`--save '' --appendonly no`), its working directory a new temporary one,
 * and wait until it answers PING. `password` sets requirepass.
 */
export async function startRedis(options: { password?: string } = {}): Promise<TestRedis> {
  if (!redisServerAvailable()) throw new Error(NO_REDIS_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), 'pinak-redis-'));
  const temp = { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  let port = 0;
  let child: ChildProcess | null = null;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', temp.dir, '--daemonize', 'no', '--loglevel', 'warning'];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    started.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child = started;
    const deadline = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}: ${output.slice(-1000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const halt = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGCONT'); // a frozen server could not act on SIGTERM
    running.kill('SIGTERM');
    await exited;
  };

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    port = await freePort();
    try {
      await launch();
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      await halt();
    }
  }
  if (lastError !== undefined) {
    temp.cleanup();
    throw lastError;
  }
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    halt,
    resume: launch,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    cli: (...args) => {
      const withAuth = options.password === undefined ? [] : ['--no-auth-warning', '-a', options.password];
      const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...withAuth, ...args], { encoding: 'utf8', timeout: 5000 });
      return `${result.stdout}${result.stderr}`.trim();
    },
    stop: async () => {
      await halt();
      temp.cleanup();
    },
  };
}

/** Whether something on this port answers a Redis PING (an error such as NOAUTH is an answer too). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^[+-]/.test(data.toString())));
  });
}

