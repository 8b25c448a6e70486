/**
 * Generate schemas/<tool>.input.json and schemas/<tool>.output.json from the
 * zod schemas, and the generated parts of the documentation (the README's
 * tool table, docs/tools.md, docs/configuration.md's settings). `--check`
 * fails (exit 1) when any generated file is stale, without writing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TOOLS } from '../src/tools/index.js';
import { toolJsonSchemas } from '../src/tools/json-schema.js';
import { settingsTable, toolReference, toolTable, withRegion } from './lib/doc-pages.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every schema file, by path relative to the project root. */
export function schemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const tool of TOOLS) {
    const { input, output } = toolJsonSchemas(tool);
    files.set(join('schemas', `${tool.name}.input.json`), `${JSON.stringify(input, null, 2)}\n`);
    files.set(join('schemas', `${tool.name}.output.json`), `${JSON.stringify(output, null, 2)}\n`);
  }
  return files;
}

/** Which page holds which generated region, and what fills it. */
const REGIONS: ReadonlyArray<{ page: string; region: string; content: () => string }> = [
  { page: 'README.md', region: 'tools', content: toolTable },
  { page: 'docs/tools.md', region: 'tool-reference', content: toolReference },
  { page: 'docs/configuration.md', region: 'settings', content: settingsTable },
];

/** Each documentation page with a generated region, as it should read now. */
export function generatedPages(): Map<string, string> {
  const pages = new Map<string, string>();
  for (const { page, region, content } of REGIONS) {
    const current = pages.get(page) ?? readFileSync(join(ROOT, page), 'utf8');
    pages.set(page, withRegion(current, region, content(), page));
  }
  return pages;
}

function main(check: boolean): number {
  const outputs = new Map([...schemaFiles(), ...generatedPages()]);
  const stale: string[] = [];
  for (const [path, content] of outputs) {
    let current: string | undefined;
    try {
      current = readFileSync(join(ROOT, path), 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    stale.push(path);
    if (!check) writeFileSync(join(ROOT, path), content);
  }
  if (check && stale.length > 0) {
    process.stderr.write(`stale generated files (run npm run gen:schemas): ${stale.join(', ')}\n`);
    return 1;
  }
  process.stderr.write(check ? 'generated files are fresh\n' : `wrote ${stale.length} file(s)\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.includes('--check'));
