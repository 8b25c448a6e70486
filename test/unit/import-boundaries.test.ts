import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Which top-level folders of src/ each folder may import from (dependencies point downward). */
const ALLOWED: Record<string, readonly string[]> = {
  domain: ['domain'],
  store: ['store', 'domain', 'logging.ts'],
  vector: ['vector', 'domain', 'logging.ts', 'module-worker.ts'],
  embeddings: ['embeddings', 'domain', 'logging.ts', 'module-worker.ts'],
  audit: ['audit', 'store', 'domain', 'logging.ts'],
  firewall: ['firewall', 'domain'],
  memory: ['memory', 'store', 'vector', 'embeddings', 'firewall', 'domain', 'logging.ts'],
  migration: ['migration', 'memory', 'store', 'audit', 'auth', 'domain', 'logging.ts'],
  tools: ['tools', 'memory', 'firewall', 'domain', 'audit', 'logging.ts'],
  surface: ['surface', 'tools', 'domain'],
  auth: ['auth', 'domain', 'logging.ts'],
  metrics: ['metrics'],
  ui: ['ui', 'domain', 'store', 'server.ts', 'runtime.ts', 'logging.ts'],
  transports: ['transports', 'auth', 'metrics', 'domain', 'surface', 'ui', 'server.ts', 'runtime.ts', 'tenants.ts', 'logging.ts'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const topLevel = (path: string): string => relative(SRC, path).split(/[\\/]/)[0]!;

describe('import boundaries', () => {
  it('every module imports only from the layers below it', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const layer = topLevel(file);
      const allowed = ALLOWED[layer];
      if (!allowed) continue;
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = topLevel(resolve(dirname(file), match[1]!).replace(/\.js$/, '.ts'));
        if (!allowed.includes(target)) violations.push(`${relative(SRC, file)} imports ${match[1]}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no module but cli.ts reads process.env or exits the process, and nothing logs with console', () => {
    const offenders = files(SRC)
      .filter((file) => !file.endsWith('cli.ts'))
      .filter((file) => /process\.env|process\.exit|console\./.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));
    expect(offenders).toEqual([]);
  });
});
