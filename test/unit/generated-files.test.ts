import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatedPages, schemaFiles } from '../../scripts/gen-schemas.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('generated files (npm run gen:schemas)', () => {
  it('schemas/ holds exactly the current JSON Schemas of every tool', () => {
    const expected = schemaFiles();
    const present = readdirSync(join(ROOT, 'schemas')).filter((f) => f.endsWith('.json')).map((f) => join('schemas', f));
    expect(present.sort()).toEqual([...expected.keys()].sort());
    for (const [path, content] of expected) expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale`).toBe(content);
  });

  it('the generated tables of the README and docs/ (tools, settings) are current', () => {
    const pages = generatedPages();
    expect([...pages.keys()].sort()).toEqual(['README.md', 'docs/configuration.md', 'docs/tools.md']);
    for (const [path, content] of pages) expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale`).toBe(content);
  });

  it('every input field of every tool is described and has an example', () => {
    for (const [path, content] of schemaFiles()) {
      if (!path.endsWith('.input.json')) continue;
      const schema = JSON.parse(content) as { properties?: Record<string, { description?: string; examples?: unknown[] }> };
      for (const [field, spec] of Object.entries(schema.properties ?? {})) {
        expect(spec.description, `${path}: ${field} has no description`).toBeTruthy();
        expect(spec.examples?.length, `${path}: ${field} has no example`).toBeGreaterThan(0);
      }
    }
  });
});
