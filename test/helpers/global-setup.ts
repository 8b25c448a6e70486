import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The e2e tier runs the built CLI, so build once before any test file runs. */
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
