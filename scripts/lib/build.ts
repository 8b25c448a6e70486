import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI every script drives, as an MCP client would. */
export const CLI = join(ROOT, 'dist', 'cli.js');

/** What dist/ is compiled from: a change to any of these makes it stale. */
const BUILD_INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

function newestMtime(path: string): number {
  if (!statSync(path).isDirectory()) return statSync(path).mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Is dist/ missing, or older than any of its inputs? */
export function distIsStale(): boolean {
  return !existsSync(CLI) || statSync(CLI).mtimeMs < Math.max(...BUILD_INPUTS.map((input) => newestMtime(join(ROOT, input))));
}

/**
 * Build dist/ when it is missing or older than any file in src/ (or the
 * compiler settings); compiler output goes to stderr. Nothing is written when
 * the code has type errors, so dist/ stays stale and the next call tries again.
 */
export function buildIfStale(): void {
  if (!distIsStale()) return;
  process.stderr.write('building dist/ …\n');
  build(['--noEmitOnError'], ['ignore', 2, 2]);
}

/**
 * Compile src/ into dist/ and make the CLI executable: tsc writes files
 * without the execute bit, and `npx pinak-memory` in a checkout runs the
 * bin itself (an installed package gets the bit from npm).
 */
export function build(extraArgs: readonly string[] = [], stdio: 'inherit' | ['ignore', 2, 2] = 'inherit'): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', ...extraArgs], { cwd: ROOT, stdio });
  chmodSync(CLI, 0o755);
}
