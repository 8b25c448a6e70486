import { MemoryError } from '../domain/errors.js';
import { KEYWORD_TEXT_VERSION } from '../domain/keyword-text.js';
import { keywordTextKey, type KeywordText, type MemoryStore } from '../store/store.js';
import { memoryKeywordText, noteOutcomeStep } from './restore-records.js';
import { goalSearchText, stepSearchText } from './search-text.js';

/** Tries before giving up on a store that keeps changing while its texts are read. */
const ATTEMPTS = 3;

/**
 * Write a store's keyword index again, every record indexed as this version
 * indexes it: a store written before dates were understood gets its dated
 * memories' day terms and resolved "yesterday"s, and the index's statistics
 * count the rows it holds, no longer every row it ever held. Returns how
 * many records were written.
 *
 * The texts are computed from a read of every record (the export's
 * snapshot), then written in one transaction that first checks that nothing
 * was written since the read began (the store's mark); if something was,
 * it starts again, up to three times.
 */
export async function rewriteKeywordIndex(store: MemoryStore): Promise<number> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const mark = await store.keywordIndexMark();
    const written = await store.rewriteKeywordIndex(await keywordTexts(store), mark, KEYWORD_TEXT_VERSION);
    if (written !== null) return written;
  }
  throw new MemoryError('conflict', `records kept being written while the keyword index was read (${ATTEMPTS} tries); try again when fewer writes come in`);
}

/**
 * What to tell the operator of a store whose keyword text an earlier version
 * wrote (or one that did not record which): null when it is this version's.
 */
export async function oldKeywordTextNotice(store: MemoryStore): Promise<string | null> {
  const version = await store.keywordTextVersion();
  if (version === KEYWORD_TEXT_VERSION) return null;
  const by = version === null ? 'a version that did not record which' : `version ${version}`;
  return `the keyword index was written by ${by} (this is version ${KEYWORD_TEXT_VERSION}): records stored before are not found by the dates they mean until \`pinak-memory reindex --keywords\` indexes them again`;
}

/** Every record's keyword text, as remember, remember_goal and record_outcome index it (held memories have none). */
async function keywordTexts(store: MemoryStore): Promise<Map<string, KeywordText>> {
  const texts = new Map<string, KeywordText>();
  // A backup lists goals, then outcomes, then memories: what a memory's text takes from them is known by its turn.
  const goals = new Map<string, { title: string; steps: Map<string, string> }>();
  const stepOfMemory = new Map<string, string>();
  for await (const record of store.exportRecords()) {
    if (record.type === 'goal') {
      const { goal } = record;
      texts.set(keywordTextKey('goal', goal.id), { text: goalSearchText(goal) });
      const steps = goal.plans.flatMap((plan) => plan.steps);
      for (const step of steps) texts.set(keywordTextKey('step', step.id), { text: stepSearchText(step) });
      goals.set(goal.id, { title: goal.title, steps: new Map(steps.map((step) => [step.id, step.title])) });
    } else if (record.type === 'outcome') {
      noteOutcomeStep(stepOfMemory, record.outcome);
    } else if (record.type === 'memory' && !record.memory.held) {
      const { memory } = record;
      const goal = memory.goal_id === null ? undefined : goals.get(memory.goal_id);
      const stepId = stepOfMemory.get(memory.id);
      texts.set(keywordTextKey('memory', memory.id), memoryKeywordText(memory, goal ? { title: goal.title, step: stepId === undefined ? undefined : goal.steps.get(stepId) } : undefined));
    }
  }
  return texts;
}
