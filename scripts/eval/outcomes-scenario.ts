/**
 * An agent learning from outcomes, through the tools: 30 goals in 5 families
 * (similar titles and plans, mixed successes and failures, lessons of which
 * some come back in other words), then a new goal of each family. Shared by
 * `npm run eval:outcomes` (the built server over stdio) and the scenario test
 * (a server in memory), so both measure the same thing.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

type Result = 'success' | 'failure' | 'partial';
type Structured = Record<string, any>;

interface Family {
  subject: string;
  variants: string[];
  plan: string[];
  /** Lessons of successes: each a list of wordings of one lesson. */
  success: string[][];
  /** Lessons of failures, the same way. */
  failure: string[][];
  /** What went wrong in a failure. */
  wrong: string;
}

export const FAMILIES: Family[] = [
  {
    subject: 'Migrate the billing database',
    variants: ['to PostgreSQL', 'to the new cluster', 'before the audit', 'for the new region', 'with no downtime', 'to managed hosting'],
    plan: ['Snapshot the billing database', 'Copy the invoices tables', 'Switch the billing service over'],
    success: [
      ['Use logical replication to move the billing database.', 'Move the billing database with logical replication.', 'Use logical replication when moving the billing database.'],
      ['Freeze invoice writes for the final billing switch only.', 'Freeze the invoice writes only for the final billing switch.'],
    ],
    failure: [['Copying invoices tables while writes are on corrupts the billing copy.', 'Copying the invoices tables while writes are on corrupts the billing copy!']],
    wrong: 'the invoices copy diverged while writes went on, and the switch was rolled back',
  },
  {
    subject: 'Rebuild the search index',
    variants: ['for the new analyzer', 'on the staging cluster', 'after the schema change', 'for the holiday peak', 'with synonyms', 'for the mobile app'],
    plan: ['Create the new index', 'Reindex the documents', 'Swap the index alias'],
    success: [
      ['Reindex documents in batches of 5000 behind an alias.', 'Reindex the documents in batches of 5000 behind an alias.'],
      ['Swap the search alias only after comparing document counts.', 'Only swap the search alias after comparing the document counts.'],
    ],
    failure: [['Reindexing in place takes the search cluster down.', 'Reindexing in place took the search cluster down.']],
    wrong: 'the in-place reindex overloaded the cluster and search was down for twenty minutes',
  },
  {
    subject: 'Speed up the release pipeline',
    variants: ['for the monorepo', 'under ten minutes', 'for arm64 builds', 'for the nightly job', 'with remote caching', 'for pull requests'],
    plan: ['Profile the slowest pipeline stage', 'Cache the dependencies', 'Run the test shards in parallel'],
    success: [
      ['Cache dependencies between pipeline runs by lockfile hash.', 'Cache the dependencies between pipeline runs by lockfile hash.'],
      ['Split the test suite into parallel shards by timing data.', 'Split the test suite into parallel shards using timing data.'],
    ],
    failure: [['A shared pipeline cache without lockfile keys serves stale packages.', 'A shared pipeline cache without lockfile keys served stale packages.']],
    wrong: 'builds picked stale packages from the shared cache and two releases shipped broken',
  },
  {
    subject: 'Ship the customer CSV export',
    variants: ['for invoices', 'for large accounts', 'with custom columns', 'as a background job', 'for the EU region', 'with email delivery'],
    plan: ['Write the CSV writer', 'Add the export endpoint', 'Email the download link'],
    success: [
      ['Stream CSV rows to storage instead of building the file in memory.', 'Stream the CSV rows to storage instead of building the file in memory.'],
      ['Email a signed download link that expires after a day.', 'Email a signed download link which expires after one day.'],
    ],
    failure: [['Building the whole CSV export in memory crashes on large accounts.', 'Building the whole CSV export in memory crashed on large accounts.']],
    wrong: 'the export ran out of memory for accounts with over 100k invoices',
  },
  {
    subject: 'Harden the auth service',
    variants: ['against credential stuffing', 'before the pentest', 'for SSO customers', 'for the mobile login', 'with device checks', 'for the admin console'],
    plan: ['Add login rate limits', 'Rotate the signing keys', 'Alert on failed logins'],
    success: [
      ['Rate limit logins per account and per address, not globally.', 'Rate limit the logins per account and per address, not globally.'],
      ['Rotate auth signing keys with an overlap window of a day.', 'Rotate the auth signing keys with an overlap window of one day.'],
    ],
    failure: [['A global login rate limit locks every user out during an attack.', 'A global login rate limit locked every user out during the attack.']],
    wrong: 'the global rate limit locked every customer out during the attack',
  },
];

/** The result of each family's six goals, in order: mixed, successes and failures. */
export const RESULTS: Result[] = ['failure', 'success', 'failure', 'success', 'partial', 'success'];

export interface ScenarioFigures {
  goals: number;
  families: number;
  lessons_recorded: number;
  distinct_lessons: number;
  lessons_stored: number;
  lessons_merged: number;
  /** Families whose new goal's experience lists one of the family's successful lessons among its first 3 lessons. */
  success_lesson_in_top3: number;
  /** Families whose new goal's experience shows its failed goals flagged with what went wrong (result failure and the summary). */
  failures_flagged: number;
  /** Families whose experience holds past goals of that family only. */
  experience_in_family: number;
  /** Failure outcomes without lessons that got a note asking for them. */
  reflection_notes: number;
  /** Failures whose reflection named a lesson of the family's successes not recalled (none: the experience showed them). */
  per_family: Array<{ subject: string; experience: Array<{ title: string; result: string | null; lessons: number }>; top3_lessons: string[] }>;
  /** Filled by runTrackRecordScenario (it needs agents of their own), else null. */
  track_record_ranking: TrackRecordFigures | null;
}

/**
 * Two lessons of one subject, equally relevant to one query (the avoided
 * one a little shorter, so it ranks first with no evidence): one agent
 * recalls the followed lesson for two goals that then succeed, another the
 * avoided one for two goals that then fail.
 */
export const TRACK_RECORD = {
  query: 'restart the payment workers after a deploy',
  followed: 'Restart the payment workers one node at a time after a deploy.',
  avoided: 'Restart all the payment workers at once after a deploy.',
  goals: ['Deploy the payments release 4.1', 'Deploy the payments release 4.2', 'Deploy the payments hotfix', 'Deploy the payments release 4.3'],
};

export interface TrackRecordFigures {
  query: string;
  /** The two lessons' ranks (1 is first) among the query's hits before any goal recalled them, and after. */
  before: { followed: number; avoided: number };
  after: { followed: number; avoided: number };
  /** What each hit's why says after. */
  followed_track_record: string | null;
  avoided_track_record: string | null;
}

/**
 * The track-record figure: `reader` stores the two lessons and searches
 * with the query; `succeeding` runs two goals, each recalling the followed
 * lesson (get_memory) and ending in success; `failing` two, recalling the
 * avoided one and ending in failure; then `reader` searches again. Recall is
 * attributed to the principal that made the calls, so the agents must be
 * principals of their own (each sees what it recalled, not what the other did).
 */
export async function runTrackRecordScenario(clients: { reader: Client; succeeding: Client; failing: Client }, namespace = 'track-record-eval'): Promise<TrackRecordFigures> {
  const { stored } = await call(clients.reader, 'remember', {
    memories: [TRACK_RECORD.followed, TRACK_RECORD.avoided].map((content) => ({ content, namespace, layer: 'procedural', kind: 'lesson' })),
  });
  const [followed, avoided] = (stored as Structured[]).map((m) => m.id as string);
  const ranks = async (): Promise<{ followed: number; avoided: number; hits: Structured[] }> => {
    const { hits } = await call(clients.reader, 'search_memory', { query: TRACK_RECORD.query, namespace, kinds: ['lesson'], limit: 10 });
    const rankOf = (id: string): number => (hits as Structured[]).findIndex((hit) => hit.id === id) + 1;
    return { followed: rankOf(followed!), avoided: rankOf(avoided!), hits };
  };
  const before = await ranks();
  const runs: Array<[Client, string, 'success' | 'failure']> = [
    [clients.failing, avoided!, 'failure'],
    [clients.succeeding, followed!, 'success'],
    [clients.failing, avoided!, 'failure'],
    [clients.succeeding, followed!, 'success'],
  ];
  for (const [i, [agent, lesson, result]] of runs.entries()) {
    const { goal } = await call(agent, 'remember_goal', { title: TRACK_RECORD.goals[i]!, namespace });
    await call(agent, 'get_memory', { ids: [lesson] });
    await call(agent, 'record_outcome', { goal_id: goal.id, result, summary: result === 'success' ? 'Deployed; no payment was lost.' : 'Payments failed for ten minutes during the restart.' });
  }
  const after = await ranks();
  const why = (id: string): string | null => (after.hits.find((hit) => hit.id === id)?.why.track_record as string | undefined) ?? null;
  return {
    query: TRACK_RECORD.query,
    before: { followed: before.followed, avoided: before.avoided },
    after: { followed: after.followed, avoided: after.avoided },
    followed_track_record: why(followed!),
    avoided_track_record: why(avoided!),
  };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Structured> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content).slice(0, 300)}`);
  return result.structuredContent as Structured;
}

/** Run the scenario in `namespace` through `client`; returns the figures. */
export async function runOutcomeScenario(client: Client, namespace = 'outcomes-eval'): Promise<ScenarioFigures> {
  const successIds = new Map<string, Set<string>>();
  let recorded = 0;
  let merged = 0;
  let notes = 0;
  const familyOfGoal = new Map<string, string>();
  for (const family of FAMILIES) {
    const ids = new Set<string>();
    successIds.set(family.subject, ids);
    for (const [i, result] of RESULTS.entries()) {
      const title = `${family.subject} ${family.variants[i]}`;
      const { goal } = await call(client, 'remember_goal', { title, namespace, plan: family.plan.map((step) => ({ title: step })) });
      familyOfGoal.set(goal.id, family.subject);
      // Each lesson in its i-th wording: later goals say earlier lessons again in other words.
      const pool = result === 'failure' ? family.failure : family.success;
      // The first failure records no lesson: the reflection asks for some.
      const lessons = result === 'failure' && i === 0 ? [] : pool.map((wordings) => wordings[i % wordings.length]!);
      const summary = result === 'failure' ? `It failed: ${family.wrong}.` : result === 'partial' ? 'Half of it is done.' : 'It worked as planned.';
      const outcome = await call(client, 'record_outcome', { goal_id: goal.id, result, summary, lessons });
      recorded += lessons.length;
      merged += (outcome.merged_lesson_ids ?? []).length;
      if (outcome.reflection_note) notes += 1;
      if (result === 'success') for (const id of outcome.lesson_memory_ids as string[]) ids.add(id);
    }
  }
  const stored = (await call(client, 'search_memory', { query: '', namespace, kinds: ['lesson'], limit: 100 })).hits.length as number;

  let inTop3 = 0;
  let flagged = 0;
  let inFamily = 0;
  const perFamily: ScenarioFigures['per_family'] = [];
  for (const family of FAMILIES) {
    const { experience } = await call(client, 'remember_goal', { title: `${family.subject} once more`, namespace });
    const past = (experience ?? []) as Structured[];
    const top3 = past.flatMap((p) => p.lessons as Structured[]).slice(0, 3);
    if (top3.some((lesson) => successIds.get(family.subject)!.has(lesson.id))) inTop3 += 1;
    const failures = past.filter((p) => p.result === 'failure');
    if (failures.length > 0 && failures.every((p) => typeof p.summary === 'string' && p.summary.includes(family.wrong.slice(0, 20)))) flagged += 1;
    if (past.length > 0 && past.every((p) => familyOfGoal.get(p.goal_id) === family.subject)) inFamily += 1;
    perFamily.push({
      subject: family.subject,
      experience: past.map((p) => ({ title: p.title, result: p.result, lessons: p.lessons.length })),
      top3_lessons: top3.map((lesson) => lesson.text as string),
    });
  }
  const distinct = FAMILIES.reduce((n, f) => n + f.success.length + f.failure.length, 0);
  return {
    goals: FAMILIES.length * RESULTS.length,
    families: FAMILIES.length,
    lessons_recorded: recorded,
    distinct_lessons: distinct,
    lessons_stored: stored,
    lessons_merged: merged,
    success_lesson_in_top3: inTop3,
    failures_flagged: flagged,
    experience_in_family: inFamily,
    reflection_notes: notes,
    per_family: perFamily,
    track_record_ranking: null,
  };
}
