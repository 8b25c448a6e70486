import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { launchFromMcpJson } from '../helpers/mcp-json.js';
import { copyProject, npm } from '../helpers/project-copy.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * The package as npm would publish it: packed from a fresh copy of the
 * project (no dist/ yet), then installed into an empty directory and run from
 * its bin, as `npx pinak-memory` and `npm i -g pinak-memory` do.
 */
const temp = makeTempDir('pinak-package-');
let tarball = '';
let packed: string[] = [];
let manifest: { bin: Record<string, string>; files: string[] };

beforeAll(() => {
  const project = copyProject(join(temp.dir, 'project'));
  manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as typeof manifest;
  npm(['pack', '--pack-destination', temp.dir], project);
  const [name] = readdirSync(temp.dir).filter((file) => file.endsWith('.tgz'));
  tarball = join(temp.dir, name ?? 'missing.tgz');
  packed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
}, 120_000);
afterAll(() => temp.cleanup());

describe('the packed npm package', () => {
  it('holds the built CLI its bin names, the bundled model, the schemas, the README and the licence', () => {
    expect(Object.values(manifest.bin)).toEqual(['dist/cli.js']);
    expect(packed).toContain('dist/cli.js');
    expect(packed).toContain('dist/embeddings/embed-worker.js');
    for (const file of ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']) expect(packed).toContain(`models/static-glove-50k/${file}`);
    expect(packed).toContain('schemas/search_memory.input.json');
    expect(packed).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
    expect(readFileSync(join(temp.dir, 'project', 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('leaves out sources, tests, scripts and source maps', () => {
    const clutter = packed.filter((path) => /\.(ts|map)$/.test(path) || /^(src|test|scripts|bench|docs)\//.test(path));
    expect(clutter).toEqual([]);
  });

  it('installs into an empty directory without an ONNX runtime, and its bin serves MCP over stdio with the bundled model', { timeout: 600_000 }, async () => {
    const app = join(temp.dir, 'app');
    mkdirSync(app);
    // The app approves the two native builds, as the README says; strict: any other install script in the
    // package's dependencies fails the install, rather than run (or be skipped) unnoticed.
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "allowScripts": { "better-sqlite3": true, "hnswlib-node": true } }\n');
    // Compiles better-sqlite3 and hnswlib-node (about a minute); packages come from the cache when they can.
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--strict-allow-scripts', tarball], app, 540_000);
    for (const heavy of ['@huggingface/transformers', 'onnxruntime-node', 'onnxruntime-web', 'sharp']) expect(existsSync(join(app, 'node_modules', heavy)), heavy).toBe(false);

    const bin = join(app, 'node_modules', '.bin', 'pinak-memory');
    const start = async (args: string[]) => {
      const transport = new StdioClientTransport({ command: bin, args: ['--data-dir', join(temp.dir, 'data'), ...args], env: { PATH: process.env.PATH ?? '' }, stderr: 'pipe', cwd: app });
      const client = new Client({ name: 'package-test', version: '0.0.1' });
      await client.connect(transport);
      return client;
    };

    const client = await start([]);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('search_memory');
      await callOk(client, 'remember', { content: 'The staging database lives in Frankfurt', layer: 'semantic' });
      for (const mode of ['hybrid', 'vector']) {
        const hits = (await callOk(client, 'search_memory', { query: 'where is the staging database?', mode })).hits as Array<{ snippet: string }>;
        expect(hits[0]?.snippet, mode).toContain('Frankfurt');
      }
      expect((await callOk(client, 'memory_stats')).embedding).toMatchObject({ model_id: 'pinak/static-glove-50k', note: null, embedded: 1 });
    } finally {
      await client.close();
    }

    // mcp.json's entry, launched where the package is installed, runs the installed bin.
    const viaMcpJson = await launchFromMcpJson(app, join(temp.dir, 'data'));
    try {
      expect((await callOk(viaMcpJson, 'memory_stats')).memories_total).toBe(1);
    } finally {
      await viaMcpJson.close();
    }

    // Another model needs @huggingface/transformers: without it the server says how to install it and keeps the bundled model.
    const fallback = await start(['--embed-model', join(temp.dir, 'project', 'models', 'static-glove-50k')]);
    try {
      const { embedding } = await callOk(fallback, 'memory_stats');
      expect(embedding.model_id).toBe('pinak/static-glove-50k');
      expect(embedding.note).toMatch(/@huggingface\/transformers.*not installed/);
    } finally {
      await fallback.close();
    }
  });
});
