import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyProject, npm } from '../helpers/project-copy.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir('pinak-start-');
afterAll(() => temp.cleanup());

describe('npm start', () => {
  it('compiles before serving only when dist/ is missing or older than the sources', { timeout: 120_000 }, () => {
    const project = copyProject(temp.dir);
    const cli = join(project, 'dist', 'cli.js');
    const builtAt = (): number => statSync(cli).mtimeMs;

    npm(['run', 'prestart'], project);
    const first = builtAt();

    npm(['run', 'prestart'], project);
    expect(builtAt(), 'nothing changed: no build').toBe(first);

    // A source edited after the build makes it stale.
    const later = new Date(first + 5_000);
    utimesSync(join(project, 'src', 'server.ts'), later, later);
    npm(['run', 'prestart'], project);
    expect(builtAt()).toBeGreaterThan(first);
  });
});
