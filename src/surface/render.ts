import { provenanceLine } from '../domain/provenance.js';
import type { Goal, GoalSummary } from '../domain/goal.js';
import type { Memory } from '../domain/memory.js';
import type { RatedHit } from '../domain/search.js';
import { goalUri, memoryUri } from '../tools/resource-uris.js';

/**
 * Bodies of resources and prompts, as text a model reads: every long text is
 * cut to a budget, and says so and where the rest is, so that one record
 * cannot fill a model's context.
 */

/** The most characters of one resource body or prompt message. */
export const MAX_BODY_CHARS = 16_000;
export const MAX_CONTENT_CHARS = 8_000;
const MAX_FIELD_CHARS = 2_000;
const MAX_NOTE_CHARS = 400;
const MAX_LESSON_CHARS = 500;
const MAX_SUMMARY_CHARS = 800;

/** `text` cut to `max` characters, with a line saying how much was left out and where to find it. */
export function clip(text: string, max: number, rest: string): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… (trimmed: ${max.toLocaleString('en')} of ${text.length.toLocaleString('en')} characters shown; ${rest})`;
}

/** A short text on one line: for lists. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

const date = (iso: string): string => iso.slice(0, 10);


export function memoryBody(m: Memory): string {
  const lines = [
    `# memory ${m.id}`,
    `${m.layer}/${m.kind} · namespace ${m.namespace} · occurred ${m.occurred_at} · importance ${m.importance}`,
  ];
  if (m.tags.length) lines.push(`tags: ${m.tags.join(', ')}`);
  const links = [
    provenanceLine(m),
    m.source === null ? null : `source: ${m.source}`,
    m.goal_id === null ? null : `goal: ${goalUri(m.goal_id)}`,
    m.thread_id === null ? null : `thread: ${m.thread_id}${m.thread_position === null ? '' : ` #${m.thread_position}`}`,
    m.supersedes === null ? null : `corrects: ${memoryUri(m.supersedes)}`,
    m.superseded_by === null ? null : `corrected by: ${memoryUri(m.superseded_by)} (this memory is out of date)`,
  ].filter((line): line is string => line !== null);
  lines.push(...links, '', clip(m.content, MAX_CONTENT_CHARS, 'call get_memory for the whole text'));
  if (Object.keys(m.metadata).length) lines.push('', `metadata: ${clip(JSON.stringify(m.metadata), MAX_FIELD_CHARS, 'call get_memory for all of it')}`);
  return clip(lines.join('\n'), MAX_BODY_CHARS, 'call get_memory for the whole memory');
}

export function goalBody(g: Goal): string {
  const lines = [
    `# goal ${g.id}: ${g.title}`,
    `${g.status} · ${g.priority} priority · namespace ${g.namespace} · plan v${g.plan_version} · ${g.steps_done}/${g.steps_total} steps done · created ${date(g.created_at)}, updated ${date(g.updated_at)}`,
  ];
  if (g.tags.length) lines.push(`tags: ${g.tags.join(', ')}`);
  lines.push(provenanceLine(g));
  if (g.parent_goal_id !== null) lines.push(`part of: ${goalUri(g.parent_goal_id)}`);
  if (g.description) lines.push('', '## Description', clip(g.description, MAX_FIELD_CHARS, 'call get_goal for all of it'));
  if (g.success_criteria.length) lines.push('', '## Success criteria', ...g.success_criteria.map((c) => `- ${oneLine(c, MAX_NOTE_CHARS)}`));
  lines.push('', ...planLines(g));
  if (g.plan_history.length) {
    lines.push('', `## Earlier plans (${g.plan_history.length})`);
    for (const p of g.plan_history.slice(-5)) lines.push(`- v${p.version} (${date(p.created_at)}): ${p.steps.length} steps${p.reason ? `; changed because: ${oneLine(p.reason, MAX_NOTE_CHARS)}` : ''}`);
  }
  lines.push('', ...outcomeLines(g));
  return clip(lines.join('\n'), MAX_BODY_CHARS, 'call get_goal for the whole goal');
}

/** The current plan, step by step, with each step's status, id and result. */
export function planLines(g: Goal): string[] {
  if (g.steps.length === 0) return ['## Plan', '(no plan yet)'];
  return [
    `## Plan (v${g.plan_version})`,
    ...g.steps.map((s) =>
      [
        `${s.position}. [${s.status}] ${s.title} (step ${s.id})`,
        s.detail ? `\n   ${oneLine(s.detail, MAX_NOTE_CHARS)}` : '',
        s.result_note ? `\n   result: ${oneLine(s.result_note, MAX_NOTE_CHARS)}` : '',
      ].join(''),
    ),
  ];
}

/** The goal's outcomes, newest last, with their lessons. */
export function outcomeLines(g: Goal): string[] {
  if (g.outcomes.length === 0) return ['## Outcomes', '(none recorded yet)'];
  const shown = g.outcomes.length < g.outcomes_total ? ` (the newest ${g.outcomes.length} of ${g.outcomes_total})` : '';
  return [
    `## Outcomes${shown}`,
    ...g.outcomes.flatMap((o) => [
      `- ${o.result} (${date(o.created_at)})${o.step_id ? ` for step ${o.step_id}` : ''}: ${oneLine(o.summary, MAX_SUMMARY_CHARS)}`,
      ...o.lessons.map((l) => `  lesson: ${oneLine(l, MAX_LESSON_CHARS)}`),
    ]),
  ];
}

export function goalListLine(g: GoalSummary): string {
  return `- ${goalUri(g.id)} [${g.status}, ${g.priority}] ${oneLine(g.title, 200)} (${g.steps_done}/${g.steps_total} steps) · ${g.namespace}`;
}

export function hitLine(hit: RatedHit, maxSnippet = 300): string {
  const uri = hit.type === 'memory' ? memoryUri(hit.id) : goalUri(hit.type === 'goal' ? hit.id : (hit.goal_id ?? hit.id));
  return `- ${uri} (${date(hit.occurred_at)}) [${hit.type === 'memory' ? `${hit.layer}/${hit.kind}` : hit.type}] ${hit.namespace}: ${oneLine(hit.snippet, maxSnippet)}`;
}
