/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`,
 * pinned) against the built server over Streamable HTTP. The suite acts as an
 * MCP client on `http://127.0.0.1:PORT/mcp` and grades each scenario by its
 * checks (SUCCESS, FAILURE, WARNING, INFO).
 *
 * Every server scenario the suite lists is either run here and must pass, or
 * excluded below with the reason: a capability we deliberately do not offer,
 * or a fixture (a tool such as `test_image_content`, a `test://` resource, a
 * `test_…` prompt) that only the suite's reference "everything" server
 * implements. An excluded scenario
 * must still fail for that reason and no other, so a new bug cannot hide among
 * the exclusions, and a scenario that starts to pass must move to RUN.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnHttp, type HttpServer } from '../helpers/spawn-http.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const manifest = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json');
const SUITE_BIN = join(dirname(manifest), (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { conformance: string } }).bin.conformance);
/** The whole suite takes a second or two here; this only bounds a hang. */
const SUITE_TIMEOUT_MS = 90_000;

/**
 * Scenarios that must pass: the protocol core, the HTTP transport, and every
 * capability we offer whose scenario needs no fixture of the reference
 * server (logging, completions, resources and prompts listed).
 *
 * The suite stays at 0.1.13: 0.1.16 needs Node 22 (it imports fs.globSync,
 * which Node 20, the oldest Node this server supports, does not have).
 */
const RUN = [
  'server-initialize',
  'ping',
  'tools-list',
  'server-sse-multiple-streams',
  'dns-rebinding-protection',
  'logging-set-level',
  'completion-complete',
  'resources-list',
  'prompts-list',
] as const;

const NO_SUBSCRIPTIONS = 'resource subscriptions (resources/subscribe): memories change through tool calls of the same client; the server sends no resources/updated notifications';
const FIXTURE_RESOURCE = (uri: string) => `reads the fixture resource ${uri} of the reference "everything" server; ours are pinak:// URIs, and an unknown URI is a JSON-RPC invalid-params error`;
const FIXTURE_PROMPT = (name: string) => `gets the fixture prompt ${name} of the reference "everything" server; ours are recall, record_outcome and plan_goal, and an unknown prompt is a JSON-RPC invalid-params error`;
const NO_ELICITATION = 'elicitation: tools never ask the user for input mid-call; a bad argument is a tool error that says what to send';
const FIXTURE = 'calls a fixture tool of the reference "everything" server that returns';
const UNKNOWN = (tool: string) =>
  `calls the fixture tool ${tool} of the reference "everything" server, which we do not have: the MCP spec makes a call to an unknown tool a JSON-RPC error (-32602), and the scenario expects a tool result`;

/**
 * Scenarios not run as passing, why, and the failure that reason must produce.
 * Scenarios calling a fixture tool we lack fail on our answer to an unknown
 * tool: a JSON-RPC -32602 error, as the MCP spec asks. `severity`: the checks
 * that fail are warnings, not failures.
 */
const EXCLUDED: Record<string, { reason: string; because: RegExp; severity?: 'WARNING' }> = {
  'tools-call-with-logging': {
    reason: `${FIXTURE} log messages while it runs (test_tool_with_logging); we send notifications/message for the server's own warnings (embedding model fallback, vector index rebuilt, degraded search)`,
    because: /Unknown tool: test_tool_with_logging$/,
  },
  'resources-read-text': { reason: FIXTURE_RESOURCE('test://static-text'), because: /unknown resource URI "test:\/\/static-text"/ },
  'resources-read-binary': { reason: FIXTURE_RESOURCE('test://static-binary'), because: /unknown resource URI "test:\/\/static-binary"/ },
  'resources-templates-read': { reason: FIXTURE_RESOURCE('test://template/{id}/data'), because: /unknown resource URI "test:\/\/template\/123\/data"/ },
  'resources-subscribe': { reason: NO_SUBSCRIPTIONS, because: /Method not found/ },
  'resources-unsubscribe': { reason: NO_SUBSCRIPTIONS, because: /Method not found/ },
  'prompts-get-simple': { reason: FIXTURE_PROMPT('test_simple_prompt'), because: /unknown prompt "test_simple_prompt"/ },
  'prompts-get-with-args': { reason: FIXTURE_PROMPT('test_prompt_with_arguments'), because: /unknown prompt "test_prompt_with_arguments"/ },
  'prompts-get-embedded-resource': { reason: FIXTURE_PROMPT('test_prompt_with_embedded_resource'), because: /unknown prompt "test_prompt_with_embedded_resource"/ },
  'prompts-get-with-image': { reason: FIXTURE_PROMPT('test_prompt_with_image'), because: /unknown prompt "test_prompt_with_image"/ },
  'tools-call-sampling': { reason: 'sampling: the server never asks the client model to generate text', because: /Unknown tool: test_sampling$/ },
  'tools-call-elicitation': { reason: NO_ELICITATION, because: /Unknown tool: test_elicitation$/ },
  'elicitation-sep1034-defaults': { reason: NO_ELICITATION, because: /Unknown tool: test_elicitation_sep1034_defaults$/ },
  'elicitation-sep1330-enums': { reason: NO_ELICITATION, because: /Unknown tool: test_elicitation_sep1330_enums$/ },
  'tools-call-with-progress': {
    reason: `${FIXTURE} progress while it runs (test_tool_with_progress); ours are remember with a batch and search_memory with context (test/e2e/mcp-logging-progress.test.ts)`,
    because: /Unknown tool: test_tool_with_progress$/,
  },
  'tools-call-simple-text': { reason: UNKNOWN('test_simple_text'), because: /^Failed: MCP error -32602: Unknown tool: test_simple_text$/ },
  'tools-call-error': { reason: UNKNOWN('test_error_handling'), because: /^Failed: MCP error -32602: Unknown tool: test_error_handling$/ },
  'tools-call-image': { reason: `${FIXTURE} image content; our tools return text and structuredContent`, because: /Unknown tool: test_image_content$/ },
  'tools-call-audio': { reason: `${FIXTURE} audio content; our tools return text and structuredContent`, because: /Unknown tool: test_audio_content$/ },
  'tools-call-embedded-resource': { reason: `${FIXTURE} an embedded resource; our tools return text and structuredContent`, because: /Unknown tool: test_embedded_resource$/ },
  'tools-call-mixed-content': { reason: `${FIXTURE} text, image and resource content; ours return text and structuredContent`, because: /Unknown tool: test_multiple_content_types$/ },
  'json-schema-2020-12': {
    reason: `${FIXTURE} a JSON Schema 2020-12 input schema (json_schema_2020_12_tool); a pending scenario in this version of the suite`,
    because: /json_schema_2020_12_tool' not found/,
  },
  'server-sse-polling': {
    reason: `${FIXTURE} after closing its SSE stream mid-call (test_reconnection), to test resuming with Last-Event-ID: we keep no event store for resumable streams, so our streams carry no priming event or retry field (two warnings; the call itself is answered with our unknown-tool error); a pending scenario in this version of the suite`,
    because: /^Server did not send (priming event|retry field)/,
    severity: 'WARNING',
  },
};

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  errorMessage?: string;
  details?: any;
}

/** Run the suite's CLI; resolves with its exit code and output, killing it after SUITE_TIMEOUT_MS. */
function suite(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SUITE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The checks of each scenario, from the result directories (`server-<scenario>-<timestamp>/checks.json`). */
function readResults(dir: string): Map<string, Check[]> {
  const results = new Map<string, Check[]>();
  for (const entry of readdirSync(dir)) {
    const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/.exec(entry)?.[1];
    if (scenario) results.set(scenario, JSON.parse(readFileSync(join(dir, entry, 'checks.json'), 'utf8')) as Check[]);
  }
  return results;
}

const failures = (checks: readonly Check[]): Check[] => checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
const describeChecks = (checks: readonly Check[]): string => checks.map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? ''}`).join('\n');

describe('the official MCP conformance suite over Streamable HTTP', () => {
  const temp = makeTempDir('pinak-conformance-');
  let server: HttpServer;
  let run: { code: number | null; output: string };
  let results: Map<string, Check[]>;

  beforeAll(async () => {
    server = await spawnHttp(join(temp.dir, 'data'));
    const baseline = join(temp.dir, 'expected-failures.yml');
    writeFileSync(baseline, `server:\n${Object.keys(EXCLUDED).map((name) => `  - ${name}\n`).join('')}`);
    const out = join(temp.dir, 'results');
    run = await suite(['server', '--url', `http://127.0.0.1:${server.port}/mcp`, '--suite', 'all', '--expected-failures', baseline, '--output-dir', out]);
    results = readResults(out);
  }, SUITE_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    temp.cleanup();
  });

  it('classifies every server scenario of the suite as run or excluded, and the suite ran them all', async () => {
    const listed = (await suite(['list', '--server'])).output
      .split('\n')
      .map((line) => /^\s+- (\S+)$/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    expect(listed.length).toBeGreaterThan(20);
    expect([...listed].sort()).toEqual([...RUN, ...Object.keys(EXCLUDED)].sort());
    expect([...results.keys()].sort()).toEqual([...listed].sort());
  });

  it.each(RUN)('%s passes', (scenario) => {
    const checks = results.get(scenario);
    expect(checks, `no results for ${scenario}:\n${run.output.slice(-2000)}`).toBeDefined();
    expect(failures(checks!), describeChecks(checks!)).toEqual([]);
    expect(checks!.some((c) => c.status === 'SUCCESS')).toBe(true);
  });

  it('dns-rebinding-protection: a foreign Host and Origin get a 4xx, loopback ones a 2xx', () => {
    const checks = new Map(results.get('dns-rebinding-protection')!.map((c) => [c.id, c]));
    expect(checks.get('localhost-host-rebinding-rejected')?.details?.statusCode).toBe(403);
    expect(checks.get('localhost-host-valid-accepted')?.details?.statusCode).toBe(200);
  });

  it.each(Object.entries(EXCLUDED))('%s is excluded, and fails only for the reason given', (scenario, { because, severity }) => {
    const failed = failures(results.get(scenario) ?? []).filter((c) => c.status === (severity ?? 'FAILURE'));
    expect(failed.length, `${scenario} no longer fails: run it as passing`).toBeGreaterThan(0);
    for (const check of failed) expect(check.errorMessage ?? '', describeChecks(failed)).toMatch(because);
  });

  it('the suite exits 0 with the exclusions as its expected-failures baseline', () => {
    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.output).toContain('Baseline check passed');
  });
});

describe('the conformance checks can fail', () => {
  it('dns-rebinding-protection fails when the server is told to trust the attacker host', async () => {
    const temp = makeTempDir('pinak-conformance-');
    const server = await spawnHttp(temp.dir, ['--allowed-hosts', 'evil.example.com', '--allowed-origins', 'http://evil.example.com']);
    try {
      const { code, output } = await suite(['server', '--url', `http://127.0.0.1:${server.port}/mcp`, '--scenario', 'dns-rebinding-protection']);
      expect(code).toBe(1);
      expect(output).toMatch(/Expected HTTP 4xx for invalid Host\/Origin headers, got 200/);
    } finally {
      await server.stop('SIGKILL');
      temp.cleanup();
    }
  });
});
