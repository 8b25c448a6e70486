/**
 * A seeded fuzz test of the built server over stdio.
 *
 * One real server process takes PINAK_FUZZ_RUNS (default 10,000) generated
 * tool calls, a few in flight at once: every tool and unknown ones, wrong JSON
 * types, missing and extra fields, oversize and hostile strings (lone UTF-16
 * surrogates, NUL, emoji, RTL, FTS5 syntax, SQL), huge batches, deep metadata,
 * silly limits, random and real ids — mixed with valid calls so the database
 * grows. Every call must settle with a clean answer; afterwards the server must
 * still be healthy and every stored memory retrievable. A second test feeds the
 * raw stdio transport malformed JSON-RPC frames.
 *
 * Replay a failure: PINAK_FUZZ_SEED=<seed> npx vitest run test/e2e/fuzz.test.ts
 * The calls come from the seed alone; a reference to an earlier record resolves
 * against the calls settled PINAK_FUZZ_CONCURRENCY (default 8) calls before, so
 * the same seed and concurrency send the same calls (up to the new ULIDs).
 * PINAK_FUZZ_RUNS (default 10,000) sets how many calls are sent.
 */
import { once } from 'node:events';
import { ErrorCode, JSONRPCMessageSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { callOk } from '../helpers/calls.js';
import { spawnRaw, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}

const SEED = envInt('PINAK_FUZZ_SEED', 20_250_508);
const RUNS = envInt('PINAK_FUZZ_RUNS', 10_000);
const CONCURRENCY = Math.max(1, envInt('PINAK_FUZZ_CONCURRENCY', 8));
/** A hang fails the call long before the test times out. */
const CALL_TIMEOUT_MS = 20_000;
/** The longest error text a model should have to read. */
const MAX_ERROR_CHARS = 2_000;
/** What must never reach the caller: SQL errors, stack frames, module or temp paths. */
const LEAK = /SQLITE|sqlite3|\bat .*\(.*:\d+:\d+\)|node_modules|\/tmp\//i;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// ---------------------------------------------------------------------------
// Values: what each field accepts, and hostile ones
// ---------------------------------------------------------------------------

const WORDS = `apple river mountain garden kitchen window doctor teacher engine bridge forest ocean castle village market
letter camera guitar piano coffee bread cheese honey lemon orange chicken horse tiger eagle rabbit robot rocket planet
moon cloud storm winter summer morning evening holiday birthday concert museum library school office hospital airport
station island desert valley lake farm bicycle train boat ship jacket blanket candle mirror clock radio phone laptop
printer battery wallet ticket passport map ladder hammer paint poem novel story song movie theater soccer tennis chess
puzzle treasure silver gold deploy login export billing invoice`.split(/\s+/);

/** Words the fuzzed calls never use: the health check's memory is the only one made of them. */
const HEALTH_TEXT = 'saxophone lighthouse penguin marathon cathedral';

const NASTY = [
  // UTF-16 and control characters
  '\uD800', '\uDFFF', 'x\uD800y', '\uDFFF\uD800', '\uDBFF', '\u0000', 'a\u0000b', '\u0000'.repeat(8), '\u0007\u001b[2J',
  '\r\n', '\t', '\u2028\u2029', '\uFEFF', '\uFFFD', '\uFFFF',
  // emoji and other scripts
  '😀', '👩‍👩‍👧‍👦', '🏳️‍🌈', '🧠 memory', 'مرحبا بالعالم', 'שלום עולם', '\u202Egnp.exe\u202C', '\u200F\u200E', 'Z̴̡̪a̷l̶g̸o̵',
  '日本語のテキスト', 'İıŞ',
  // FTS5 query syntax
  '"', '""', '"unbalanced', '*', 'deploy*', '^start', 'NEAR(', 'NEAR(a b, 2)', 'NEAR(a', 'AND', 'OR', 'NOT', 'a AND b OR NOT c',
  'content:secret', 'col:', 'tags:x', '{content tags}: x', '(', ')', '((a OR b)', '-', '+', 'a - b', ':', '"a" "b"', 'x"y', "'",
  // SQL fragments
  "'; DROP TABLE memories; --", "' OR '1'='1", '1; SELECT * FROM sqlite_master', 'UNION SELECT NULL, NULL --', '/*', '*/',
  '%', '_', '\\', 'memories_fts MATCH', ') OR 1=1 --', 'PRAGMA writable_schema=1',
  // paths, templates, prototype keys, look-alikes
  '../../etc/passwd', '/tmp/x', 'C:\\Windows', '${process.env}', '{{7*7}}', '__proto__', 'constructor', '<script>alert(1)</script>',
  'null', 'undefined', 'NaN', '-1', '0', '1e309', '', ' ', '   ',
];

/** A lone half of a surrogate pair: the server refuses these in anything it stores. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const word = fc.constantFrom(...WORDS);
const nasty = fc.constantFrom(...NASTY);
const nonEmptyNasty = fc.constantFrom(...NASTY.filter((s) => s.trim() !== ''));
const storableNasty = fc.constantFrom(...NASTY.filter((s) => s.trim() !== '' && !LONE_SURROGATE.test(s)));

/** Lengths at and around the limits of the schemas, and far past them. */
const size = fc.oneof(
  fc.constantFrom(48, 49, 64, 65, 128, 129, 500, 501, 2_000, 2_001, 4_000, 4_001, 8_000, 8_001, 10_000, 16_384, 16_385, 32_768, 32_769, 40_960),
  fc.integer({ min: 65, max: 40 * 1024 }),
);
/** A string of up to 40 KiB (which may cut an emoji in half). */
const oversize = fc
  .tuple(fc.oneof(nonEmptyNasty, word, fc.constant('x')), size)
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

/** A short hostile string. */
const shortText = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 3, arbitrary: fc.array(fc.oneof(word, nasty), { minLength: 1, maxLength: 8 }).map((parts) => parts.join(' ')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);
/** Any hostile string, sometimes far too long. */
const text = fc.oneof({ weight: 8, arbitrary: shortText }, { weight: 1, arbitrary: oversize });

/** Text the server must store: words with emoji, RTL, NUL, FTS5 syntax or SQL mixed in (no lone surrogates). */
const validText = fc
  .tuple(fc.array(word, { minLength: 1, maxLength: 12 }), fc.array(storableNasty, { maxLength: 3 }))
  .map(([words, extra]) => [...words, ...extra].join(' '));
/** A title the server must store: valid text without control characters, which labels may not hold. */
const validTitle = validText.map((t) => t.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim());
/** A query the server must answer: anything goes, lone surrogates included. */
const validQuery = fc
  .oneof(
    { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: word }, { weight: 2, arbitrary: nasty }), { maxLength: 10 }).map((p) => p.join(' ')) },
    { weight: 1, arbitrary: oversize.map((q) => q.slice(0, 16_384)) },
  );

/** Any JSON value, of a type a field may not expect. */
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, '', 'x', [], {}, [null], { $gt: '' }, ['semantic'], { content: 'x' }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Numbers for limits, sizes and scores: negative, zero, huge, fractional, and numbers as strings. */
const numberish: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, 0, 1, 0.5, 2, 10, 39, 40, 100, 101, 2_000, 2_001, 1e9, 1e308, -1e308, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER,
    2 ** 53 + 2, -0, 1.0000001, 'NaN', 'Infinity', '-Infinity', '10', '0x10', '1e2', ' 5 '),
  fc.integer({ min: -1_000, max: 1_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const timestampish: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('2025-05-08T13:56:00Z', '2025-05-08', '2025-05-08 13:56', '2025-05-08T13:56:00+14:00', '2025-02-30', '2025-13-01',
    '2025-05-08T25:00:00Z', '0000-01-01', '9999-12-31T23:59:59Z', '-000001-01-01', '+275760-09-13T00:00:00.000Z',
    '1970-01-01T00:00:00.000000001Z', 'yesterday', '', 'NaN', '2025-05-08T13:56:00.000Z'.repeat(2)),
  shortText,
);

const LAYERS = ['semantic', 'episodic', 'procedural'];
const MODES = ['hybrid', 'keyword', 'vector'];
const TYPES = ['memory', 'goal', 'step'];
const GOAL_STATUSES = ['active', 'achieved', 'failed', 'abandoned'];
const STEP_STATUSES = ['pending', 'in_progress', 'done', 'failed', 'skipped'];
const PRIORITIES = ['low', 'normal', 'high', 'critical'];
const RESULTS = ['success', 'failure', 'partial'];
const KINDS = ['fact', 'preference', 'turn', 'lesson', 'note', 'outcome', 'goal', 'step'];
const NAMESPACES = ['default', 'project-x', 'fuzz/ns.1'];
const TOOLS = ['remember', 'remember_goal', 'record_outcome', 'search_memory', 'get_memory', 'get_goal', 'list_goals', 'forget', 'memory_stats'];

/** Near misses of an enum's options. */
const misses = (options: readonly string[]) => fc.constantFrom('', '*', 'all', ...options.flatMap((o) => [o.toUpperCase(), ` ${o}`, `${o}\u0000`]));

// ---------------------------------------------------------------------------
// References to records created during the run
// ---------------------------------------------------------------------------

type RefKind = 'memory' | 'goal' | 'step';

/** A placeholder for the id of a record an earlier call created; resolved just before the call is sent. */
class Ref {
  constructor(
    readonly kind: RefKind,
    readonly pick: number,
    /** For a step: which goal it belongs to. */
    readonly goalPick = 0,
  ) {}

  toJSON(): string {
    return `<${this.kind} #${this.pick}>`;
  }
}

const memoryRef = fc.nat().map((n) => new Ref('memory', n));
const goalRef = fc.nat().map((n) => new Ref('goal', n));
const stepRef = fc.tuple(fc.nat(), fc.nat()).map(([goal, step]) => new Ref('step', step, goal));

/** Ids that may or may not exist: real ones, well-formed ULIDs, and garbage. */
const idish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: memoryRef },
  { weight: 2, arbitrary: goalRef },
  { weight: 1, arbitrary: stepRef },
  { weight: 2, arbitrary: fc.ulid() },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', '0', '0'.repeat(26), 'Z'.repeat(26), '01JD3Z6Q6H8W1V8N2X4C5B7E9F', '01jd3z6q6h8w1v8n2x4c5b7e9f', 'I'.repeat(26),
      'x'.repeat(64), 'x'.repeat(65), '%', '*', "1' OR '1'='1"),
  },
  { weight: 2, arbitrary: shortText },
);

// ---------------------------------------------------------------------------
// Fields and arguments
// ---------------------------------------------------------------------------

/** What one field takes: values its schema accepts (unfriendly where possible), and hostile values of about the right type. */
interface Values {
  valid: fc.Arbitrary<unknown>;
  hostile: fc.Arbitrary<unknown>;
}
const values = (valid: fc.Arbitrary<unknown>, hostile: fc.Arbitrary<unknown>): Values => ({ valid, hostile });
const oneOf = (options: readonly string[]) => values(fc.constantFrom(...options), misses(options));
const someOf = (options: readonly string[], max: number) =>
  values(fc.uniqueArray(fc.constantFrom(...options), { maxLength: max }), fc.array(fc.oneof(fc.constantFrom(...options), misses(options)), { maxLength: max + 3 }));

/** Keys the server refuses in free JSON at any depth (fast-check likes to generate them). */
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];
const hasReservedKey = (value: unknown): boolean =>
  Array.isArray(value) ? value.some(hasReservedKey) : isRecord(value) && Object.entries(value).some(([k, v]) => RESERVED_KEYS.includes(k) || hasReservedKey(v));
const smallMetadata = fc.dictionary(word, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).filter((metadata) => !hasReservedKey(metadata));
/** Metadata 1–60 levels deep (16 is the limit). */
const deepMetadata = fc
  .tuple(fc.integer({ min: 1, max: 60 }), fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), fc.oneof(nasty, fc.jsonValue({ maxDepth: 1 })))
  .map(([depth, asArray, leaf]) => {
    let value: unknown = leaf;
    for (let d = depth - 1; d >= 0; d -= 1) value = asArray[d] ? [value] : { [`level${d}`]: value };
    return { nested: value };
  });

const V = {
  text: values(validText, text),
  shortText: values(validText, shortText),
  query: values(validQuery, text),
  kind: values(fc.constantFrom(...KINDS), fc.oneof(fc.constantFrom('x'.repeat(48), 'x'.repeat(49), ' ', '\t'), shortText)),
  tags: values(fc.uniqueArray(word, { maxLength: 4 }), fc.array(fc.oneof(word, nasty, fc.constant('t'.repeat(10_000)), fc.string()), { maxLength: 40 })),
  metadata: values(
    smallMetadata,
    fc.oneof(
      { weight: 3, arbitrary: deepMetadata },
      { weight: 2, arbitrary: fc.dictionary(fc.oneof(word, nasty), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }) },
      { weight: 1, arbitrary: oversize.map((blob) => ({ blob })) },
      { weight: 1, arbitrary: fc.dictionary(fc.string({ unit: 'binary', maxLength: 20 }), nasty, { maxKeys: 5 }) },
    ),
  ),
  importance: values(fc.double({ min: 0, max: 1, noNaN: true }), numberish),
  limit: values(fc.integer({ min: 1, max: 100 }), numberish),
  snippetChars: values(fc.integer({ min: 40, max: 2_000 }), numberish),
  namespace: values(fc.constantFrom(...NAMESPACES), fc.constantFrom('*', 'a'.repeat(128), 'a'.repeat(129), '-leading', '../etc', 'ns with space', 'ns\u0000', 'Ω', '')),
  anyNamespace: values(fc.constantFrom(...NAMESPACES, '*'), fc.oneof(fc.constantFrom('**', 'a'.repeat(129), '-x', ''), shortText)),
  timestamp: values(
    fc.date({ min: new Date('1990-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    timestampish,
  ),
  bool: values(fc.boolean(), fc.constantFrom('true', 'false', 0, 1, null, 'yes')),
  memoryId: values(memoryRef, idish),
  goalId: values(goalRef, idish),
  stepId: values(stepRef, idish),
  idempotencyKey: values(fc.uuid(), fc.oneof(fc.constantFrom('k1', 'k2', 'k3', '', 'k'.repeat(128), 'k'.repeat(129)), nasty)),
};

/** Marks a field left out. */
const ABSENT = Symbol('absent');

type Weighted = { arbitrary: fc.Arbitrary<unknown>; weight: number };
const weighted = (...choices: Weighted[]): fc.Arbitrary<unknown> => fc.oneof(...choices.filter((c) => c.weight > 0));

/** One field: left out, valid, hostile, or — with weight `wrong` — any JSON of another type. */
function field(v: Values, wrong: number): fc.Arbitrary<unknown> {
  return weighted(
    { arbitrary: fc.constant(ABSENT), weight: 5 },
    { arbitrary: v.valid, weight: 5 },
    { arbitrary: v.hostile, weight: wrong === 0 ? 1 : 3 },
    { arbitrary: wrongType, weight: wrong },
  );
}

const extraKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'Content', 'query ', 'memories[0]', '$where', '') },
  { weight: 4, arbitrary: shortText },
  { weight: 1, arbitrary: oversize },
);

/** An object of the given fields (absent ones left out), plus — with weight `wrong` — unknown keys. */
function objectOf(shape: Record<string, fc.Arbitrary<unknown>>, wrong: number): fc.Arbitrary<Record<string, unknown>> {
  const extras = weighted(
    { arbitrary: fc.constant([]), weight: 8 },
    { arbitrary: fc.array(fc.tuple(extraKey, wrongType), { minLength: 1, maxLength: 3 }), weight: wrong },
  ) as fc.Arbitrary<Array<[string, unknown]>>;
  // Object.fromEntries defines "__proto__" as an own key, so it is sent as data.
  return fc
    .tuple(fc.record(shape), extras)
    .map(([fields, extra]) => Object.fromEntries([...Object.entries(fields).filter(([, v]) => v !== ABSENT), ...extra]));
}

/** How many fields of a call get a wrong type: none (hostile values reach the handlers), some, many. */
const wrongness = fc.constantFrom(0, 1, 3);

/** What the call must do. */
type Expect = 'ok' | 'any' | 'rejected';

interface Call {
  label: string;
  name: unknown;
  args: unknown;
  expect: Expect;
}

const call = (label: string, name: string, expect: Expect) => (args: unknown): Call => ({ label, name, args, expect });

// ---------------------------------------------------------------------------
// One builder per tool: fuzzed calls, then valid ones
// ---------------------------------------------------------------------------

const memoryShape = (w: number, content: Values) => ({
  content: field(content, w),
  layer: field(oneOf(LAYERS), w),
  kind: field(V.kind, w),
  tags: field(V.tags, w),
  metadata: field(V.metadata, w),
  importance: field(V.importance, w),
  namespace: field(V.namespace, w),
  source: field(V.shortText, w),
  occurred_at: field(V.timestamp, w),
  goal_id: field(V.goalId, w),
  supersedes: field(V.memoryId, w),
});

const validMemory = fc.record(
  {
    content: validText,
    layer: fc.constantFrom(...LAYERS),
    kind: fc.constantFrom(...KINDS),
    tags: V.tags.valid,
    metadata: smallMetadata,
    importance: V.importance.valid,
    namespace: V.namespace.valid,
    occurred_at: V.timestamp.valid,
  },
  { requiredKeys: ['content'] },
);

/** A batch of 0–120 memories: mostly valid items among hostile ones. */
const batchOf = (w: number) =>
  fc.integer({ min: 0, max: 120 }).chain((n) =>
    fc.array(
      weighted(
        { arbitrary: validMemory, weight: 6 },
        { arbitrary: objectOf(memoryShape(w, V.shortText), w), weight: 3 },
        { arbitrary: wrongType, weight: w },
      ),
      { minLength: n, maxLength: n },
    ),
  );

const fuzzRemember = wrongness
  .chain((w) =>
    fc.oneof(
      objectOf({ ...memoryShape(w, V.text), idempotency_key: field(V.idempotencyKey, w) }, w),
      objectOf({ memories: field(values(batchOf(w), batchOf(w)), w), idempotency_key: field(V.idempotencyKey, w) }, w),
      objectOf({ ...memoryShape(w, V.shortText), memories: batchOf(w) }, w),
      // every item valid but for a few long unknown keys: many long complaints at once
      fc
        .array(fc.tuple(validMemory, fc.array(fc.tuple(fc.string({ minLength: 60, maxLength: 300 }), wrongType), { minLength: 1, maxLength: 3 })), { minLength: 10, maxLength: 20 })
        .map((items) => ({ memories: items.map(([memory, extra]) => Object.fromEntries([...Object.entries(memory), ...extra])) })),
    ),
  )
  .map(call('remember/fuzz', 'remember', 'any'));

const fuzzSearch = wrongness
  .chain((w) =>
    objectOf(
      {
        namespace: field(V.anyNamespace, w),
        layers: field(someOf(LAYERS, 3), w),
        kinds: field(values(fc.uniqueArray(fc.constantFrom(...KINDS), { maxLength: 3 }), fc.array(V.kind.hostile, { maxLength: 25 })), w),
        types: field(someOf(TYPES, 3), w),
        tags_any: field(V.tags, w),
        tags_all: field(V.tags, w),
        goal_id: field(V.goalId, w),
        time_field: field(oneOf(['occurred_at', 'created_at']), w),
        since: field(V.timestamp, w),
        until: field(V.timestamp, w),
        include_superseded: field(V.bool, w),
        mode: field(oneOf(MODES), w),
        query: field(V.query, w),
        limit: field(V.limit, w),
        snippet_chars: field(V.snippetChars, w),
      },
      w,
    ),
  )
  .map(call('search_memory/fuzz', 'search_memory', 'any'));

/** A plan of 0–60 steps (1–50 allowed). */
const planOf = (w: number) =>
  fc.integer({ min: 0, max: 60 }).chain((n) =>
    fc.array(
      weighted(
        { arbitrary: fc.record({ title: validText }), weight: 4 },
        { arbitrary: objectOf({ title: field(V.shortText, w), detail: field(V.shortText, w) }, w), weight: 3 },
        { arbitrary: wrongType, weight: w },
      ),
      { minLength: n, maxLength: n },
    ),
  );
const stepUpdatesOf = (w: number) =>
  fc.array(
    weighted(
      { arbitrary: objectOf({ step_id: field(V.stepId, w), status: field(oneOf(STEP_STATUSES), w), result_note: field(V.shortText, w) }, w), weight: 4 },
      { arbitrary: wrongType, weight: w },
    ),
    { maxLength: 60 },
  );

const fuzzRememberGoal = wrongness
  .chain((w) =>
    objectOf(
      {
        goal_id: field(V.goalId, w),
        title: field(V.text, w),
        description: field(V.text, w),
        success_criteria: field(values(fc.array(validText, { maxLength: 3 }), fc.array(shortText, { maxLength: 25 })), w),
        priority: field(oneOf(PRIORITIES), w),
        tags: field(V.tags, w),
        metadata: field(V.metadata, w),
        parent_goal_id: field(V.goalId, w),
        namespace: field(V.namespace, w),
        status: field(oneOf(GOAL_STATUSES), w),
        plan: field(values(planOf(0), planOf(w)), w),
        plan_reason: field(V.text, w),
        step_updates: field(values(stepUpdatesOf(0), stepUpdatesOf(w)), w),
        idempotency_key: field(V.idempotencyKey, w),
      },
      w,
    ),
  )
  .map(call('remember_goal/fuzz', 'remember_goal', 'any'));

const fuzzRecordOutcome = wrongness
  .chain((w) =>
    objectOf(
      {
        goal_id: field(V.goalId, w),
        step_id: field(V.stepId, w),
        result: field(oneOf(RESULTS), w),
        summary: field(V.text, w),
        lessons: field(values(fc.uniqueArray(validText, { maxLength: 3 }), fc.oneof(fc.array(shortText, { maxLength: 25 }), fc.constant(['same', 'same']))), w),
        metrics: field(V.metadata, w),
        update_status: field(V.bool, w),
        idempotency_key: field(V.idempotencyKey, w),
      },
      w,
    ),
  )
  .map(call('record_outcome/fuzz', 'record_outcome', 'any'));

const fuzzGetMemory = wrongness
  .chain((w) => objectOf({ id: field(V.memoryId, w), ids: field(values(fc.array(memoryRef, { minLength: 1, maxLength: 10 }), fc.array(idish, { maxLength: 12 })), w) }, w))
  .map(call('get_memory/fuzz', 'get_memory', 'any'));

const fuzzGetGoal = wrongness.chain((w) => objectOf({ goal_id: field(V.goalId, w) }, w)).map(call('get_goal/fuzz', 'get_goal', 'any'));

const fuzzListGoals = wrongness
  .chain((w) =>
    objectOf({ statuses: field(someOf(GOAL_STATUSES, 4), w), namespace: field(V.anyNamespace, w), parent_goal_id: field(V.goalId, w), limit: field(V.limit, w) }, w),
  )
  .map(call('list_goals/fuzz', 'list_goals', 'any'));

const fuzzForget = wrongness
  .chain((w) =>
    objectOf(
      {
        ids: field(
          values(
            fc.array(memoryRef, { minLength: 1, maxLength: 3 }),
            fc.oneof(
              fc.integer({ min: 0, max: 110 }).chain((n) => fc.array(idish, { minLength: n, maxLength: n })),
              // up to 100 ids, none of which exist
              fc.integer({ min: 1, max: 100 }).chain((n) =>
                fc.uniqueArray(fc.oneof(fc.ulid(), fc.string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 64 })), { minLength: n, maxLength: n }),
              ),
            ),
          ),
          w,
        ),
        reason: field(V.text, w),
        idempotency_key: field(V.idempotencyKey, w),
      },
      w,
    ),
  )
  .map(call('forget/fuzz', 'forget', 'any'));

const fuzzStats = wrongness.chain((w) => objectOf({}, w)).map(call('memory_stats/fuzz', 'memory_stats', 'any'));

const unknownTool = fc
  .record({
    name: fc.oneof(
      fc.constantFrom('', 'REMEMBER', 'remember ', ' remember', 'remember\u0000', 'tools/list', 'search-memory', 'searchMemory', '__proto__',
        'constructor', 'toString', 'hasOwnProperty', '../remember', 'x'.repeat(200)),
      shortText.filter((name) => !TOOLS.includes(name)),
    ),
    args: fc.dictionary(fc.oneof(word, nasty), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  })
  // Not a tool of ours: a JSON-RPC -32602 error (the MCP spec's "unknown tool"), never a tool result.
  .map(({ name, args }): Call => ({ label: 'unknown-tool', name, args, expect: 'rejected' }));

/**
 * Arguments nested 1,000–3,500 levels deep: far past the 16 levels metadata may
 * have, yet shallow enough for the client's JSON.stringify (about 4,100).
 */
const deepArguments = fc
  .tuple(fc.constantFrom(...TOOLS, 'no_such_tool'), fc.constantFrom(1_000, 1_500, 2_000, 3_000, 3_500))
  .map(([name, depth]): Call => {
    let nested: unknown = [];
    for (let d = 1; d < depth; d += 1) nested = [nested];
    return { label: 'deep-arguments', name, args: { content: `nested ${depth} deep`, metadata: { nested } }, expect: name === 'no_such_tool' ? 'rejected' : 'any' };
  });

/** Malformed at the protocol level: the SDK answers these with JSON-RPC -32602 instead of a tool result. */
const protocolInvalid = fc.oneof(
  fc
    .tuple(fc.constantFrom(...TOOLS), fc.constantFrom('string', '', 42, 0, true, null, [], [1, 2], ['content', 'x'], 'x'.repeat(40_000)))
    .map(([name, args]): Call => ({ label: 'protocol/arguments-not-object', name, args, expect: 'rejected' })),
  fc
    .constantFrom(42, null, true, {}, [], ['remember'], undefined)
    .map((name): Call => ({ label: 'protocol/name-not-string', name, args: { content: 'x' }, expect: 'rejected' })),
);

// Valid calls, so the database grows and the handlers see real records. 'ok' ones must succeed.

const validRemember = fc
  .oneof(validMemory, fc.array(validMemory, { minLength: 1, maxLength: 20 }).map((memories) => ({ memories })))
  .map(call('remember/valid', 'remember', 'ok'));

const validRememberLinked = fc
  .record({ content: validText, goal_id: goalRef, supersedes: memoryRef }, { requiredKeys: ['content'] })
  .map(call('remember/valid-linked', 'remember', 'any'));

const validSearch = fc
  .record(
    {
      query: validQuery,
      mode: fc.constantFrom(...MODES),
      limit: V.limit.valid,
      namespace: V.anyNamespace.valid,
      layers: someOf(LAYERS, 3).valid,
      types: someOf(TYPES, 3).valid,
      kinds: fc.uniqueArray(fc.constantFrom(...KINDS), { maxLength: 3 }),
      tags_any: V.tags.valid,
      since: fc.constantFrom('1990-01-01', '2020-06-01T00:00:00Z'),
      until: fc.constantFrom('2031-01-01', '2029-12-31T23:59:59+02:00'),
      include_superseded: fc.boolean(),
      snippet_chars: V.snippetChars.valid,
    },
    { requiredKeys: ['query'] },
  )
  .map(call('search_memory/valid', 'search_memory', 'ok'));

const validGoal = fc
  .record(
    {
      title: validTitle,
      description: validText,
      success_criteria: fc.array(validText, { maxLength: 3 }),
      priority: fc.constantFrom(...PRIORITIES),
      tags: V.tags.valid,
      namespace: V.namespace.valid,
      plan: fc.array(fc.record({ title: validTitle }), { minLength: 1, maxLength: 5 }),
    },
    { requiredKeys: ['title'] },
  )
  .map(call('remember_goal/valid-create', 'remember_goal', 'ok'));

const validGoalUpdate = fc
  .tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...STEP_STATUSES), validText), { minLength: 1, maxLength: 3 }), fc.option(fc.constantFrom(...GOAL_STATUSES)))
  .map(([g, updates, status]) => ({
    goal_id: new Ref('goal', g),
    ...(status === null ? {} : { status }),
    step_updates: updates.map(([s, stepStatus, note]) => ({ step_id: new Ref('step', s, g), status: stepStatus, result_note: note })),
  }))
  .map(call('remember_goal/valid-update', 'remember_goal', 'any'));

const validOutcome = fc
  .tuple(fc.nat(), fc.option(fc.nat()), fc.constantFrom(...RESULTS), validText, fc.uniqueArray(validText, { maxLength: 3 }), fc.boolean())
  .map(([g, s, result, summary, lessons, updateStatus]) => ({
    goal_id: new Ref('goal', g),
    ...(s === null ? {} : { step_id: new Ref('step', s, g) }),
    result,
    summary,
    lessons,
    metrics: { attempts: 1, rows: 12_000 },
    update_status: updateStatus,
  }))
  .map(call('record_outcome/valid', 'record_outcome', 'any'));

const validReads = fc.oneof(
  fc.array(memoryRef, { minLength: 1, maxLength: 10 }).map((ids) => ({ ids })).map(call('get_memory/valid', 'get_memory', 'any')),
  goalRef.map((goal_id) => ({ goal_id })).map(call('get_goal/valid', 'get_goal', 'ok')),
  fc.record({ statuses: fc.uniqueArray(fc.constantFrom(...GOAL_STATUSES), { minLength: 1, maxLength: 4 }), namespace: V.anyNamespace.valid })
    .map(call('list_goals/valid', 'list_goals', 'ok')),
  fc.constant({}).map(call('memory_stats/valid', 'memory_stats', 'ok')),
  fc.array(memoryRef, { minLength: 1, maxLength: 3 }).map((ids) => ({ ids, reason: 'fuzz' })).map(call('forget/valid', 'forget', 'any')),
);

/** The mix: about two thirds hostile, one third valid. */
const anyCall: fc.Arbitrary<Call> = fc.oneof(
  { weight: 8, arbitrary: fuzzRemember },
  { weight: 6, arbitrary: fuzzSearch },
  { weight: 6, arbitrary: fuzzRememberGoal },
  { weight: 6, arbitrary: fuzzRecordOutcome },
  { weight: 4, arbitrary: fuzzGetMemory },
  { weight: 3, arbitrary: fuzzGetGoal },
  { weight: 3, arbitrary: fuzzListGoals },
  { weight: 4, arbitrary: fuzzForget },
  { weight: 2, arbitrary: fuzzStats },
  { weight: 3, arbitrary: unknownTool },
  { weight: 3, arbitrary: protocolInvalid },
  { weight: 1, arbitrary: deepArguments },
  { weight: 8, arbitrary: validRemember },
  { weight: 2, arbitrary: validRememberLinked },
  { weight: 6, arbitrary: validSearch },
  { weight: 3, arbitrary: validGoal },
  { weight: 2, arbitrary: validGoalUpdate },
  { weight: 3, arbitrary: validOutcome },
  { weight: 4, arbitrary: validReads },
);

/** Call i of a seed, generated a chunk at a time (each chunk from its own derived seed) so memory stays bounded. */
function callSource(seed: number, chunk = 500): (i: number) => Call {
  let cached = -1;
  let calls: Call[] = [];
  return (i) => {
    const c = Math.floor(i / chunk);
    if (c !== cached) {
      calls = fc.sample(anyCall, { seed: (seed + Math.imul(c, 0x9e3779b1)) | 0, numRuns: chunk });
      cached = c;
    }
    return calls[i % chunk]!;
  };
}

// ---------------------------------------------------------------------------
// The records the run created, for references and the final check
// ---------------------------------------------------------------------------

interface GoalEntry {
  id: string;
  steps: string[];
}
interface Created {
  memories: string[];
  goals: GoalEntry[];
}

const FALLBACK_ID = '01HZZZZZZZZZZZZZZZZZZZZZZZ';

/**
 * Ids created so far. A call resolves its references only against calls that
 * settled at least CONCURRENCY calls before it (it waits for them), so which
 * record a reference names does not depend on how the calls in flight raced.
 */
class IdPool {
  private readonly memories: string[] = [];
  private readonly goals: GoalEntry[] = [];
  private readonly perCall = new Map<number, Created>();
  private readonly settledAhead = new Set<number>();
  /** Calls [0, prefix) have settled. */
  private prefix = 0;
  /** Calls [0, folded) are in the lists above. */
  private folded = 0;
  /** Sizes of the lists once calls [0, k) are folded in. */
  private readonly sizes: Array<[number, number]> = [[0, 0]];
  private waiters: Array<{ n: number; wake: () => void }> = [];

  constructor(initial: Created) {
    this.memories.push(...initial.memories);
    this.goals.push(...initial.goals);
    this.sizes[0] = [this.memories.length, this.goals.length];
  }

  settle(i: number, created: Created | undefined): void {
    if (created) this.perCall.set(i, created);
    this.settledAhead.add(i);
    while (this.settledAhead.delete(this.prefix)) this.prefix += 1;
    const ready = this.waiters.filter((w) => w.n <= this.prefix);
    this.waiters = this.waiters.filter((w) => w.n > this.prefix);
    for (const w of ready) w.wake();
  }

  async ready(n: number): Promise<void> {
    if (n <= this.prefix) return;
    await new Promise<void>((wake) => this.waiters.push({ n, wake }));
  }

  /** Replace every Ref in `value` with an id created by calls [0, horizon). */
  resolve(value: unknown, horizon: number): unknown {
    while (this.folded < horizon) {
      const created = this.perCall.get(this.folded);
      if (created) {
        this.memories.push(...created.memories);
        this.goals.push(...created.goals);
        this.perCall.delete(this.folded);
      }
      this.folded += 1;
      this.sizes[this.folded] = [this.memories.length, this.goals.length];
    }
    const [memories, goals] = this.sizes[horizon]!;
    return mapRefs(value, (ref) => {
      if (ref.kind === 'memory') return memories ? this.memories[ref.pick % memories]! : FALLBACK_ID;
      const goal = goals ? this.goals[(ref.kind === 'goal' ? ref.pick : ref.goalPick) % goals] : undefined;
      if (!goal) return FALLBACK_ID;
      if (ref.kind === 'goal') return goal.id;
      return goal.steps.length ? goal.steps[ref.pick % goal.steps.length]! : FALLBACK_ID;
    });
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function hasRef(value: unknown): boolean {
  if (value instanceof Ref) return true;
  if (Array.isArray(value)) return value.some(hasRef);
  if (isRecord(value)) return Object.values(value).some(hasRef);
  return false;
}

function mapRefs(value: unknown, f: (ref: Ref) => string): unknown {
  if (value instanceof Ref) return f(value);
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, f));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapRefs(v, f)]));
  return value;
}

/** What a successful call created, read from its structured content. */
function createdBy(tool: string, sc: Record<string, any>): Created | undefined {
  const goalEntry = (goal: any): GoalEntry => ({ id: goal.id, steps: (goal.steps ?? []).map((s: { id: string }) => s.id) });
  switch (tool) {
    case 'remember':
      return { memories: sc.stored.map((m: { id: string }) => m.id), goals: [] };
    case 'remember_goal':
      return { memories: [], goals: [goalEntry(sc.goal)] };
    case 'record_outcome':
      return { memories: [sc.summary_memory_id, ...sc.lesson_memory_ids], goals: [goalEntry(sc.goal)] };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// Judging one answer
// ---------------------------------------------------------------------------

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

function preview(name: unknown, args: unknown): string {
  let json: string;
  try {
    json = JSON.stringify({ name, arguments: args }) ?? String(args);
  } catch {
    json = String(args);
  }
  return clip(json, 800);
}

function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) out.push(k), stringsIn(v, out);
  return out;
}

/**
 * True when the text leaks SQL, a stack frame or a path. Error messages may
 * quote what the caller sent (an unknown key, an id), sometimes cut short, so
 * the caller's own strings are blanked out first: a caller sending
 * "sqlite_master" and reading it back is no leak.
 */
function leaks(textOut: string, name: unknown, args: unknown): boolean {
  if (!LEAK.test(textOut)) return false;
  // The longest prefix of each string (raw or JSON-escaped) that the text quotes, blanked out longest first.
  const quoted = stringsIn([name, args])
    .flatMap((s) => [s, JSON.stringify(s).slice(1, -1)])
    .map((s) => {
      let lo = 0;
      let hi = s.length;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (textOut.includes(s.slice(0, mid))) lo = mid;
        else hi = mid - 1;
      }
      return lo >= Math.min(s.length, 8) && lo >= 3 ? s.slice(0, lo) : '';
    })
    .filter((s) => s !== '')
    .sort((a, b) => b.length - a.length);
  let redacted = textOut;
  for (const s of quoted) redacted = redacted.split(s).join('<input>');
  return LEAK.test(redacted);
}

interface ToolResult {
  isError?: boolean;
  content?: unknown;
  structuredContent?: unknown;
}

/** Why this answer is wrong, or undefined when it is fine. */
function judge(c: Call, args: unknown, result: ToolResult | undefined, error: unknown): string | undefined {
  if (error !== undefined) {
    if (!(error instanceof McpError)) return `rejected with something other than a JSON-RPC error: ${clip(String(error), 300)}`;
    if (c.expect === 'rejected' && error.code === ErrorCode.InvalidParams) return undefined;
    return `rejected with JSON-RPC error ${error.code}: ${clip(error.message, 300)}`;
  }
  if (c.expect === 'rejected') return `expected JSON-RPC ${ErrorCode.InvalidParams}, got a tool result: ${clip(JSON.stringify(result), 300)}`;
  if (!result) return 'no result';
  const content = Array.isArray(result.content) ? (result.content as Array<{ type?: unknown; text?: unknown }>) : [];
  if (content.length === 0 || content[0]?.type !== 'text' || typeof content[0]?.text !== 'string') return `no text content: ${clip(JSON.stringify(result), 300)}`;
  if (result.isError === true) {
    const message = content.map((part) => String(part.text)).join('\n');
    if (message.trim() === '') return 'an empty error message';
    if (message.length > MAX_ERROR_CHARS) return `an error message of ${message.length} chars (over ${MAX_ERROR_CHARS}): ${clip(message, 300)}`;
    if (leaks(message, c.name, args)) return `the error message leaks internals: ${clip(message, 600)}`;
    if (/^internal error/.test(message)) return `an unexpected internal error (a server bug; see the ref in its log): ${message}`;
    if (c.expect === 'ok') return `a valid call failed: ${clip(message, 600)}`;
    return undefined;
  }
  if (result.isError !== undefined && result.isError !== false) return `isError is ${JSON.stringify(result.isError)}`;
  if (!isRecord(result.structuredContent)) return `success without structuredContent: ${clip(JSON.stringify(result), 300)}`;
  return undefined;
}

// ---------------------------------------------------------------------------
// Raw JSON-RPC frames
// ---------------------------------------------------------------------------

type Frame = string | Buffer;

const rpc = (message: Record<string, unknown>): string => JSON.stringify(message);

/** Malformed frames of every kind; ids come from `id` so most answers can be told apart. */
const rawFrame = (id: number): fc.Arbitrary<Frame> =>
  fc.oneof(
    // not JSON at all
    fc.constantFrom('{', '{"jsonrpc":"2.0",', '}{', '[1,2', "{'jsonrpc':'2.0'}", 'undefined', 'NaN', '{"a":1}}', '\u001b[31m', '"unterminated',
      `{"jsonrpc":"2.0","id":${id},"method":"ping"`, `{"jsonrpc":"2.0","id":${id},"method":"ping"}}`, 'nul\u0000l', '\uD800'),
    fc.string({ unit: 'binary', maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ' ')),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => Buffer.from([0xff, 0xfe, ...bytes.filter((b) => b !== 0x0a)])),
    // JSON, but not JSON-RPC 2.0
    fc.constantFrom('1.0', '2', '2.1', 2, null, undefined).map((jsonrpc) => rpc({ jsonrpc, id, method: 'ping' })),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.constantFrom('42', 'null', '"ping"', 'true', '[]', '{}', '[[]]'),
    // batches
    fc.constant(`[${rpc({ jsonrpc: '2.0', id, method: 'ping' })},${rpc({ jsonrpc: '2.0', id: id + 0.5, method: 'tools/list' })}]`),
    fc.constant(`[${rpc({ jsonrpc: '2.0', method: 'notifications/initialized' })}]`),
    // unknown methods, as requests and as notifications
    fc.constantFrom('foo', 'tools/cal', '', 'rpc.discover', '__proto__', 'tools/call/extra', 'x'.repeat(1_000)).map((method) => rpc({ jsonrpc: '2.0', id, method })),
    fc.constantFrom('notifications/unknown', 'foo').map((method) => rpc({ jsonrpc: '2.0', method })),
    // odd ids
    fc.constantFrom('1e300', '-1e300', '9007199254740993', '1e400', '1.5', '-0', '""', '"\\ud800"', '{}', '[]', 'true', 'null', `"${'i'.repeat(100_000)}"`)
      .map((rawId) => `{"jsonrpc":"2.0","id":${rawId},"method":"ping"}`),
    // params of the wrong type
    fc.constantFrom('"remember"', '42', '[]', 'null', 'true').map((params) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`),
    fc.constantFrom('"x"', '[]', 'null', '42').map((args) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"remember","arguments":${args}}}`),
    fc.constant(rpc({ jsonrpc: '2.0', id, method: 'tools/call', params: { arguments: {} } })),
    // responses nobody asked for
    fc.constant(rpc({ jsonrpc: '2.0', id: id + 1_000_000, result: {} })),
    fc.constant(rpc({ jsonrpc: '2.0', id: id + 1_000_000, error: { code: -1, message: 'x' } })),
    // blank lines
    fc.constantFrom('', '   ', '\r', '\t'),
  );

const MB = 1024 * 1024;

/** Frames too large to generate in bulk: sent once each. */
function bigFrames(): Frame[] {
  return [
    'x'.repeat(MB),
    `[${'1,'.repeat(MB / 2)}1]`,
    rpc({ jsonrpc: '2.0', id: 'big-remember', method: 'tools/call', params: { name: 'remember', arguments: { content: 'y'.repeat(MB) } } }),
    rpc({ jsonrpc: '2.0', id: 'big-search', method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'NEAR( '.repeat(MB / 6) } } }),
    `{"jsonrpc":"2.0","id":"big-key","method":"ping","params":{"${'k'.repeat(MB)}":1}}`,
    // past the transport's 8 MiB line limit
    'z'.repeat(9 * MB),
  ];
}

/** A valid request, with what its answer must be. */
function validFrame(k: number): { frame: string; id: string; check: (response: any) => string | undefined } {
  const id = `valid-${k}`;
  const mustSucceed = (response: any) =>
    response.error ? `error ${JSON.stringify(response.error)}` : response.result?.isError ? `tool error ${JSON.stringify(response.result.content)}` : undefined;
  switch (k % 4) {
    case 0:
      return { frame: rpc({ jsonrpc: '2.0', id, method: 'ping' }), id, check: mustSucceed };
    case 1:
      return { frame: rpc({ jsonrpc: '2.0', id, method: 'tools/list' }), id, check: (r) => mustSucceed(r) ?? (r.result.tools.length === 9 ? undefined : 'not 9 tools') };
    case 2:
      return { frame: rpc({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'remember', arguments: { content: `raw frame memory ${k} about the garden` } } }), id, check: mustSucceed };
    default:
      return { frame: rpc({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'raw frame garden' } } }), id, check: mustSucceed };
  }
}

interface Answer {
  /** JSON of the id the response must carry. */
  id: string;
  /** The JSON-RPC error code it must carry, 'result' for a success, '*' when either will do. */
  code: number | 'result' | '*';
}

const SERVED_METHODS = ['initialize', 'ping', 'tools/list', 'tools/call'];

/** What the server must answer to one line: mirrors the JSON-RPC rules, not the server's code. */
function expectedAnswer(frame: Frame): Answer | undefined {
  const line = (typeof frame === 'string' ? frame : frame.toString('utf8')).replace(/\r$/, '');
  if (line.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { id: 'null', code: ErrorCode.ParseError };
  }
  const message = JSONRPCMessageSchema.safeParse(parsed);
  if (!message.success) {
    const id = isRecord(parsed) ? parsed.id : undefined;
    return { id: JSON.stringify(typeof id === 'string' || typeof id === 'number' ? id : null), code: ErrorCode.InvalidRequest };
  }
  const data = message.data as { id?: unknown; method?: unknown };
  // A request gets an answer; notifications and stray responses get none.
  if (data.method === undefined || data.id === undefined) return undefined;
  const id = JSON.stringify(data.id);
  if (!SERVED_METHODS.includes(String(data.method))) return { id, code: ErrorCode.MethodNotFound };
  return { id, code: data.method === 'ping' ? 'result' : '*' };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

describe(`fuzzing the built server over stdio (seed ${SEED})`, () => {
  it(`settles ${RUNS} hostile and valid tool calls cleanly and stays healthy`, { timeout: 170_000 }, async () => {
    const temp = makeTempDir('pinak-fuzz-');
    cleanups.push(temp.cleanup);
    const server = await spawnServer(temp.dir);
    cleanups.push(() => server.close());
    const { client } = server;
    let connectionClosed = false;
    client.onclose = () => {
      connectionClosed = true;
    };
    // Listing the tools makes the client check every structuredContent against its output schema too.
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());

    // A few records to refer to from the start.
    const warmup = await callOk(client, 'remember', {
      memories: Array.from({ length: 20 }, (_, k) => ({ content: `warm up fact ${k}: the ${WORDS[k]} near the ${WORDS[k + 20]}`, namespace: NAMESPACES[k % 3] })),
    });
    const goals: GoalEntry[] = [];
    for (const namespace of NAMESPACES) {
      const { goal } = await callOk(client, 'remember_goal', { title: `warm up goal in ${namespace}`, namespace, plan: [{ title: 'first step' }, { title: 'second step' }, { title: 'third step' }] });
      goals.push({ id: goal.id, steps: goal.steps.map((s: { id: string }) => s.id) });
    }
    const pool = new IdPool({ memories: warmup.stored.map((m: { id: string }) => m.id), goals });

    const stored = new Set<string>(warmup.stored.map((m: { id: string }) => m.id));
    const forgotten = new Set<string>();
    const failures: Array<{ i: number; label: string; problem: string; args: string }> = [];
    let longestError = 0;
    let slowestMs = 0;
    const tally = new Map<string, { ok: number; toolError: number; rejected: number }>();
    const callAt = callSource(SEED);

    const runOne = async (i: number, c: Call): Promise<void> => {
      let args = c.args;
      if (hasRef(args)) {
        const horizon = Math.max(0, i - CONCURRENCY);
        await pool.ready(horizon);
        args = pool.resolve(args, horizon);
      }
      let result: ToolResult | undefined;
      let error: unknown;
      const sent = performance.now();
      try {
        result = (await client.callTool({ name: c.name as string, arguments: args as Record<string, unknown> }, undefined, { timeout: CALL_TIMEOUT_MS })) as ToolResult;
      } catch (e) {
        error = e;
      }
      slowestMs = Math.max(slowestMs, performance.now() - sent);
      const problem = judge(c, args, result, error);
      if (problem !== undefined) failures.push({ i, label: c.label, problem, args: preview(c.name, args) });
      if (result?.isError && Array.isArray(result.content)) longestError = Math.max(longestError, String(result.content[0]?.text ?? '').length);

      const counts = tally.get(c.label) ?? { ok: 0, toolError: 0, rejected: 0 };
      if (error !== undefined) counts.rejected += 1;
      else if (result?.isError) counts.toolError += 1;
      else counts.ok += 1;
      tally.set(c.label, counts);

      let created: Created | undefined;
      if (result && !result.isError && isRecord(result.structuredContent) && typeof c.name === 'string') {
        const sc = result.structuredContent;
        created = createdBy(c.name, sc);
        for (const id of created?.memories ?? []) stored.add(id);
        if (c.name === 'forget') for (const id of sc.forgotten as string[]) forgotten.add(id);
      }
      pool.settle(i, created);
    };

    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        // A dead server would fail every call: no point going on.
        while (next < RUNS && !connectionClosed) {
          const i = next++;
          await runOne(i, callAt(i));
        }
      }),
    );
    const fuzzSeconds = (performance.now() - started) / 1000;
    const report = [...tally.entries()].sort().map(([label, n]) => `${label.padEnd(28)} ok ${n.ok}, tool error ${n.toolError}, rejected ${n.rejected}`);
    console.info(
      `fuzz seed ${SEED}: ${next} calls in ${fuzzSeconds.toFixed(1)} s, concurrency ${CONCURRENCY}, slowest call ${slowestMs.toFixed(0)} ms, ` +
        `longest error text ${longestError} chars, ${failures.length} bad answers\n${report.join('\n')}`,
    );

    // Every bad answer, grouped by kind, with the first call of each kind in full (soft: the health check still runs).
    const kinds = new Map<string, typeof failures>();
    for (const f of failures) {
      const kind = `${f.label}: ${f.problem.replace(/[:(].*$/s, '').replace(/\d+/g, 'N').trim()}`;
      kinds.set(kind, [...(kinds.get(kind) ?? []), f]);
    }
    const byKind = [...kinds.entries()].map(
      ([kind, list]) =>
        `${list.length} × ${kind} (calls ${list.slice(0, 8).map((f) => f.i).join(', ')}${list.length > 8 ? ', …' : ''})\n` +
        `  e.g. seed ${SEED} call ${list[0]!.i}: ${clip(list[0]!.problem, 700)}\n    arguments: ${list[0]!.args}`,
    );
    expect.soft(failures.length, `seed ${SEED}: ${failures.length} bad answers out of ${next} calls\n${byKind.join('\n')}`).toBe(0);
    expect(next, `seed ${SEED}: calls sent before the connection closed`).toBe(RUNS);

    // Health check: the server is still up, counts add up, search works in every mode, nothing stored was lost.
    expect(connectionClosed, `seed ${SEED}: the connection closed`).toBe(false);
    const live = [...stored].filter((id) => !forgotten.has(id));
    const stats = await callOk(client, 'memory_stats');
    expect(stats.memories_total, `seed ${SEED}: memories_total vs memories stored and not forgotten`).toBe(live.length);
    expect(live.length, `seed ${SEED}: the valid calls should have grown the database`).toBeGreaterThan(Math.min(RUNS / 10, 100));

    const fresh = (await callOk(client, 'remember', { content: HEALTH_TEXT, kind: 'fact' })).stored[0].id as string;
    for (const mode of MODES) {
      const hits = (await callOk(client, 'search_memory', { query: HEALTH_TEXT, mode, limit: 10 })).hits.map((h: { id: string }) => h.id);
      expect(hits, `seed ${SEED}: a fresh memory found by ${mode} search`).toContain(fresh);
    }

    const missing: string[] = [];
    let cursor = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (cursor < live.length) {
          const ids = live.slice(cursor, cursor + 10);
          cursor += 10;
          // get_memory answers a tool error when none of the ids exists.
          const got = (await client.callTool({ name: 'get_memory', arguments: { ids } })) as ToolResult;
          const memories = isRecord(got.structuredContent) ? (got.structuredContent.memories as Array<{ id: string }>) : [];
          const found = new Set(memories.map((m) => m.id));
          missing.push(...ids.filter((id) => !found.has(id)));
        }
      }),
    );
    expect(missing, `seed ${SEED}: memories stored by fuzzed calls and never forgotten must be retrievable`).toEqual([]);

    const pid = server.transport.pid;
    expect(pid, 'the server process id').toBeTypeOf('number');
    expect(() => process.kill(pid!, 0), `seed ${SEED}: the server process is alive`).not.toThrow();
    expect(connectionClosed).toBe(false);
    const errorLogs = server
      .stderr()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line));
    expect(errorLogs.map((line) => clip(line, 500)), `seed ${SEED}: error-level log lines`).toEqual([]);
    console.info(`fuzz seed ${SEED}: health check of ${live.length} memories done in ${((performance.now() - started) / 1000 - fuzzSeconds).toFixed(1)} s`);
  });

  it('answers every raw JSON-RPC request exactly once, keeps serving through malformed frames, and exits 0 when stdin closes', { timeout: 60_000 }, async () => {
    const temp = makeTempDir('pinak-fuzz-raw-');
    cleanups.push(temp.cleanup);
    const child = spawnRaw(['--data-dir', temp.dir, '--log-level', 'warn']);
    cleanups.push(() => void (child.exitCode === null && child.kill('SIGKILL')));
    const lines: string[] = [];
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      for (let nl = partial.indexOf('\n'); nl !== -1; nl = partial.indexOf('\n')) {
        lines.push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

    // Malformed frames, with a valid request after every fourth one.
    const generated = fc.sample(fc.nat({ max: 999 }).chain((k) => rawFrame(10_000 + k)), { seed: SEED, numRuns: 160 });
    const frames: Frame[] = [
      rpc({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-fuzz', version: '1' } } }),
      rpc({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    ];
    const checks = new Map<string, (response: any) => string | undefined>();
    const big = bigFrames();
    generated.forEach((frame, k) => {
      frames.push(frame);
      if (k % 4 === 3) {
        const valid = validFrame(checks.size);
        frames.push(valid.frame);
        checks.set(JSON.stringify(valid.id), valid.check);
      }
      if (k % 27 === 0 && big.length) frames.push(big.shift()!);
    });
    frames.push(...big);

    // How many answers each (id, code) pair must get.
    const expected = new Map<string, number>();
    for (const frame of frames) {
      const answer = expectedAnswer(frame);
      if (answer) expected.set(`${answer.id} ${answer.code}`, (expected.get(`${answer.id} ${answer.code}`) ?? 0) + 1);
    }
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    const byCode = new Map<string, number>();
    for (const [key, n] of expected) byCode.set(key.slice(key.lastIndexOf(' ') + 1), (byCode.get(key.slice(key.lastIndexOf(' ') + 1)) ?? 0) + n);
    console.info(`raw frames, seed ${SEED}: ${frames.length} lines; answers expected: ${[...byCode].map(([c, n]) => `${c} ×${n}`).join(', ')}; ${frames.length - total} lines need none`);

    for (const frame of frames) child.stdin.write(typeof frame === 'string' ? `${frame}\n` : Buffer.concat([frame, Buffer.from('\n')]));
    await waitFor(() => lines.length >= total, 30_000, () => `${total} answers; got ${lines.length}; stderr: ${clip(stderr, 1_000)}`);

    // Still serving: a last valid call works.
    child.stdin.write(`${rpc({ jsonrpc: '2.0', id: 'final', method: 'tools/call', params: { name: 'search_memory', arguments: { query: 'raw frame memory garden' } } })}\n`);
    await waitFor(() => lines.some((line) => line.includes('"id":"final"')), 10_000, () => 'the final answer');
    child.stdin.end();
    const [code] = await once(child, 'exit');
    expect(code, `exit code; stderr: ${clip(stderr, 2_000)}`).toBe(0);
    if (partial !== '') lines.push(partial);

    const responses = lines.map((line, n) => {
      let parsed: any;
      expect(() => (parsed = JSON.parse(line)), `stdout line ${n} is JSON: ${clip(line, 300)}`).not.toThrow();
      expect(parsed.jsonrpc, `stdout line ${n}`).toBe('2.0');
      expect('result' in parsed !== 'error' in parsed, `stdout line ${n} has a result or an error: ${clip(line, 300)}`).toBe(true);
      return parsed as { id: unknown; result?: any; error?: { code: number; message: string } };
    });
    const final = responses.find((r) => r.id === 'final');
    expect(final?.error, 'the final call').toBeUndefined();
    expect(final?.result?.isError, `the final call: ${JSON.stringify(final)}`).toBeFalsy();
    expect(final?.result?.structuredContent?.hits?.length, 'the final search finds the raw frame memories').toBeGreaterThan(0);

    // Match every answer to an expected one: same id and code first, then same id with any code.
    const remaining = new Map(expected);
    const take = (key: string) => (remaining.get(key) ?? 0) > 0 && remaining.set(key, remaining.get(key)! - 1);
    const unexpected: string[] = [];
    for (const response of responses.filter((r) => r.id !== 'final')) {
      const id = JSON.stringify(response.id ?? null);
      if (!take(`${id} ${response.error ? response.error.code : 'result'}`) && !take(`${id} *`)) unexpected.push(clip(JSON.stringify(response), 300));
      const check = checks.get(id);
      if (check) expect(check(response), `seed ${SEED}: answer to ${id}`).toBeUndefined();
    }
    const unanswered = [...remaining].filter(([, n]) => n > 0).map(([key, n]) => `${n} × id and code ${clip(key, 120)}`);
    expect(unexpected, `seed ${SEED}: answers nobody should have got, or with the wrong code (${frames.length} frames)`).toEqual([]);
    expect(unanswered, `seed ${SEED}: requests not answered (${frames.length} frames)`).toEqual([]);
    expect(frames.length).toBeGreaterThanOrEqual(200);
  });
});
