import type { Goal, GoalSummary, Outcome } from '../domain/goal.js';
import { GOAL_STATUSES } from '../domain/goal.js';
import { LAYERS, type Memory } from '../domain/memory.js';
import { provenanceLine } from '../domain/provenance.js';
import type { RatedHit } from '../domain/search.js';
import type { NumberedAuditRow } from '../store/store.js';
import { goalHref, html, memoryHref, query, visible, type Html } from './html.js';
import { csrfField, isAdmin, notice, page, type Frame } from './layout.js';

/** The search form's values, as the query string gave them (already bounded). */
export interface SearchForm {
  q: string;
  mode: string;
  namespace: string;
  layers: string[];
  kinds: string;
  tags_any: string;
  tags_all: string;
  goal_id: string;
  since: string;
  until: string;
  time_field: string;
  include_superseded: boolean;
  limit: number;
}

const option = (value: string, selected: boolean, label = value): Html => html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
const tags = (list: readonly string[]): Html => html`${list.map((t) => html`<span class="tag">${visible(t)}</span>`)}`;
const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

function hitHref(hit: RatedHit): string {
  if (hit.type === 'memory') return memoryHref(hit.id);
  if (hit.type === 'goal') return goalHref(hit.id);
  return hit.goal_id ? goalHref(hit.goal_id) : '#';
}

function why(hit: RatedHit): Html {
  const parts: string[] = [];
  if (hit.relevance) parts.push(hit.relevance);
  if (hit.why.keyword_rank !== null) parts.push(`keyword rank ${hit.why.keyword_rank}`);
  if (hit.why.vector_rank !== null) parts.push(`vector rank ${hit.why.vector_rank}${hit.why.vector_similarity === null ? '' : ` (similarity ${hit.why.vector_similarity.toFixed(3)})`}`);
  // A tie-break search whose keyword hits filled the page compared only them with the query: a similarity, no vector rank.
  else if (hit.why.vector_similarity !== null) parts.push(`similarity ${hit.why.vector_similarity.toFixed(3)}`);
  if (hit.why.matched_terms.length) parts.push(`matched: ${hit.why.matched_terms.join(', ')}`);
  parts.push(`score ${hit.score.toFixed(4)}`);
  return html`<div class="meta why">${parts.join(' · ')}</div>`;
}

function hitCard(hit: RatedHit): Html {
  return html`<article class="hit"><div class="meta"><span class="badge ${hit.relevance ?? ''}">${hit.type}${hit.layer ? `/${hit.layer}` : ''}/${visible(hit.kind)}</span> ${hit.namespace} · ${when(hit.occurred_at)}${hit.superseded ? ' · superseded' : ''}${hit.origin ? ` · from ${hit.origin}` : ''}${hit.trust === 'low' ? ` · low trust: ${hit.why.trust}` : ''}${hit.thread ? html` · thread ${visible(hit.thread.id)} #${hit.thread.position}` : ''}</div>
<div class="content"><a href="${hitHref(hit)}">${visible(hit.snippet)}</a></div>${hit.tags.length ? html`<div>${tags(hit.tags)}</div>` : ''}${why(hit)}
${hit.context.length ? html`<ul class="meta">${hit.context.map((c) => html`<li>${c.offset > 0 ? `+${c.offset}` : c.offset}: <a href="${memoryHref(c.id)}">${visible(c.snippet)}</a></li>`)}</ul>` : ''}</article>`;
}

export function searchPage(frame: Frame, form: SearchForm, result: { hits: RatedHit[]; mode: string; terms: string[]; note?: string } | null, error: string | null, flash: string | null): Html {
  const namespaces = frame.principal.namespaces;
  const body = html`<h1>Search</h1>${flash ? notice(flash) : ''}
<form class="filters" method="get" action="/ui/">
<label class="wide">Query<input type="search" name="q" value="${form.q}" maxlength="2000" placeholder="words to look for; empty: the newest records"></label>
<label>Mode<select name="mode">${['hybrid', 'keyword', 'vector'].map((m) => option(m, form.mode === m))}</select></label>
<label>Namespace${namespaces === null
    ? html`<input name="namespace" value="${form.namespace}" maxlength="64" placeholder="default; * for all">`
    : html`<select name="namespace">${namespaces.map((n) => option(n, form.namespace === n))}</select>`}</label>
<label>Layer<select name="layer"><option value="">any</option>${LAYERS.map((l) => option(l, form.layers.includes(l)))}</select></label>
<label>Kinds<input name="kinds" value="${form.kinds}" maxlength="500" placeholder="fact, lesson"></label>
<label>Any of tags<input name="tags_any" value="${form.tags_any}" maxlength="500"></label>
<label>All of tags<input name="tags_all" value="${form.tags_all}" maxlength="500"></label>
<label>Goal id<input name="goal_id" value="${form.goal_id}" maxlength="64"></label>
<label>Time of<select name="time_field">${option('occurred_at', form.time_field === 'occurred_at', 'occurrence')}${option('created_at', form.time_field === 'created_at', 'storage')}</select></label>
<label>Since<input type="date" name="since" value="${form.since}"></label>
<label>Until<input type="date" name="until" value="${form.until}"></label>
<label>Hits<input type="number" name="limit" min="1" max="100" value="${form.limit}"></label>
<label class="check"><input type="checkbox" name="include_superseded" value="1"${form.include_superseded ? html` checked` : ''}> superseded too</label>
<button type="submit">Search</button></form>
${error ? notice(error, 'error') : ''}
${result ? html`<p class="meta">${result.hits.length} hit${result.hits.length === 1 ? '' : 's'} · ${result.mode}${result.terms.length ? ` · words: ${result.terms.join(', ')}` : ''}${result.note ? ` · ${result.note}` : ''}</p>${result.hits.map(hitCard)}` : ''}`;
  return page(frame, 'Search', body);
}

export interface MemoryView {
  memory: Memory;
  /** Older versions it corrects, nearest first; newer ones correcting it, nearest first. */
  older: Memory[];
  newer: Memory[];
  neighbours: Array<{ offset: number; id: string; snippet: string }>;
  access: NumberedAuditRow[] | null;
}

function chainItem(m: Memory): Html {
  return html`<li><a href="${memoryHref(m.id)}">${m.id}</a> <span class="meta">${when(m.created_at)}</span> <span class="content">${visible(m.content.slice(0, 300))}</span></li>`;
}

export function memoryPage(frame: Frame, view: MemoryView, flash: string | null, error: string | null): Html {
  const m = view.memory;
  const admin = isAdmin(frame);
  const body = html`<h1>Memory <code>${m.id}</code></h1>${flash ? notice(flash) : ''}${error ? notice(error, 'error') : ''}
<section class="card"><div class="meta"><span class="badge">${m.layer}/${visible(m.kind)}</span> namespace ${visible(m.namespace)} · occurred ${when(m.occurred_at)} · stored ${when(m.created_at)} · importance ${m.importance}${m.source ? html` · source ${visible(m.source)}` : ''} · ${visible(provenanceLine(m))}</div>
<div class="content" id="content">${visible(m.content)}</div>
${m.tags.length ? html`<div>${tags(m.tags)}</div>` : ''}
${m.goal_id ? html`<div class="meta">goal <a href="${goalHref(m.goal_id)}">${m.goal_id}</a></div>` : ''}
${m.thread_id ? html`<div class="meta">thread ${visible(m.thread_id)} at ${m.thread_position ?? '?'}</div>` : ''}
${m.superseded_by ? html`<div class="notice">Corrected by <a href="${memoryHref(m.superseded_by)}">${m.superseded_by}</a>: hidden from search.</div>` : ''}
${m.held ? html`<div class="notice error">Held for review (${visible((m.injection ?? []).join(', '))}): found by no search until approved. <a href="/ui/review">The review queue</a>.</div>` : m.injection?.length ? html`<div class="notice">Flagged as instructions aimed at a model: ${visible(m.injection.join(', '))}.</div>` : ''}</section>
<h2>Metadata</h2><pre>${visible(JSON.stringify(m.metadata, null, 2))}</pre>
<h2>Supersede chain</h2>${view.older.length || view.newer.length
    ? html`${view.newer.length ? html`<p class="meta">Newer versions (correcting this one):</p><ol>${view.newer.map(chainItem)}</ol>` : ''}${view.older.length ? html`<p class="meta">Older versions (this one corrects):</p><ol>${view.older.map(chainItem)}</ol>` : ''}`
    : html`<p class="meta">No other version.</p>`}
${m.thread_id ? html`<h2>Thread neighbours</h2>${view.neighbours.length ? html`<ul>${view.neighbours.map((n) => html`<li>${n.offset > 0 ? `+${n.offset}` : n.offset}: <a href="${memoryHref(n.id)}">${visible(n.snippet)}</a></li>`)}</ul>` : html`<p class="meta">None found.</p>`}` : ''}
${view.access ? html`<h2>Access log</h2>${auditTable(view.access)}` : ''}
${admin ? adminForms(frame, m) : ''}`;
  return page(frame, `Memory ${m.id}`, body);
}

function adminForms(frame: Frame, m: Memory): Html {
  const action = memoryHref(m.id);
  return html`<details class="admin"><summary>Correct (supersede) this memory</summary>
<form method="post" action="${action}/supersede">${csrfField(frame)}<label>New text<textarea name="content" required maxlength="65536">${m.content}</textarea></label>
<p class="meta">Stored as a new memory with the same layer, kind, tags, namespace and metadata; this one is kept, hidden from search.</p><button type="submit">Store the correction</button></form></details>
<details class="admin"><summary>Forget this memory</summary>
<form method="post" action="${action}/forget">${csrfField(frame)}<label>Reason (for the log)<input name="reason" maxlength="500"></label>
<p class="meta">Deletes it for good. Audited with your key.</p><button class="danger" type="submit">Forget for good</button></form></details>`;
}

/** The review queue: memories held because they read as instructions aimed at a model, each with approve and reject forms. */
export function reviewPage(frame: Frame, held: readonly Memory[], flash: string | null): Html {
  const item = (m: Memory): Html => {
    const action = `/ui/review/${encodeURIComponent(m.id)}`;
    return html`<li class="card held"><div class="meta"><a href="${memoryHref(m.id)}">${m.id}</a> · namespace ${visible(m.namespace)} · stored ${when(m.created_at)} · ${visible(provenanceLine(m))}</div>
<div class="meta">signals: <span class="signals">${visible((m.injection ?? []).join(', '))}</span></div>
<div class="content">${visible(m.content)}</div>
<form class="inline" method="post" action="${action}/approve">${csrfField(frame)}<button type="submit">Approve</button></form>
<form class="inline" method="post" action="${action}/reject">${csrfField(frame)}<button class="danger" type="submit">Reject (delete)</button></form></li>`;
  };
  const body = html`<h1>Review queue</h1>${flash ? notice(flash) : ''}
<p class="meta">Memories from the web, tools or imports that read as instructions aimed at a model. They are stored but found by no search until approved. Approving makes one searchable; rejecting deletes it. Each decision is audited with your sign-in.</p>
${held.length ? html`<ul class="review">${held.map(item)}</ul>` : html`<p class="meta">No memories are held for review.</p>`}`;
  return page(frame, 'Review queue', body);
}

function goalLine(goal: GoalSummary): Html {
  return html`<a href="${goalHref(goal.id)}">${visible(goal.title)}</a> <span class="badge ${goal.status}">${goal.status}</span> <span class="meta">${goal.priority} · ${goal.steps_done}/${goal.steps_total} steps · ${goal.namespace}</span>`;
}

export function goalsPage(frame: Frame, goals: GoalSummary[], statuses: string[], namespace: string, error: string | null): Html {
  const ids = new Set(goals.map((g) => g.id));
  const children = new Map<string, GoalSummary[]>();
  for (const goal of goals) {
    const parent = goal.parent_goal_id && ids.has(goal.parent_goal_id) ? goal.parent_goal_id : '';
    children.set(parent, [...(children.get(parent) ?? []), goal]);
  }
  const seen = new Set<string>();
  const tree = (parent: string, root: boolean): Html => {
    const list = (children.get(parent) ?? []).filter((g) => !seen.has(g.id));
    if (!list.length) return html``;
    for (const g of list) seen.add(g.id);
    return html`<ul class="tree${root ? ' root' : ''}">${list.map((g) => html`<li>${goalLine(g)}${tree(g.id, false)}</li>`)}</ul>`;
  };
  const namespaces = frame.principal.namespaces;
  const body = html`<h1>Goals</h1>
<form class="filters" method="get" action="/ui/goals">${GOAL_STATUSES.map((s) => html`<label class="check"><input type="checkbox" name="status" value="${s}"${statuses.includes(s) ? html` checked` : ''}> ${s}</label>`)}
<label>Namespace${namespaces === null ? html`<input name="namespace" value="${namespace}" maxlength="64" placeholder="default; * for all">` : html`<select name="namespace">${namespaces.map((n) => option(n, namespace === n))}</select>`}</label>
<button type="submit">Show</button></form>${error ? notice(error, 'error') : ''}
${goals.length ? tree('', true) : html`<p class="meta">No goals match.</p>`}`;
  return page(frame, 'Goals', body);
}

function outcomeItem(o: Outcome): Html {
  return html`<li><span class="badge ${o.result}">${o.result}</span> <span class="meta">${when(o.created_at)}</span> <a href="${memoryHref(o.summary_memory_id)}">${visible(o.summary)}</a>
${o.lessons.length ? html`<ul>${o.lessons.map((l, i) => html`<li>lesson: ${o.lesson_memory_ids[i] ? html`<a href="${memoryHref(o.lesson_memory_ids[i])}">${visible(l)}</a>` : visible(l)}</li>`)}</ul>` : ''}
${Object.keys(o.metrics).length ? html`<pre>${visible(JSON.stringify(o.metrics))}</pre>` : ''}</li>`;
}

export function goalPage(frame: Frame, goal: Goal, parent: GoalSummary | null, subGoals: GoalSummary[]): Html {
  const body = html`<h1>Goal: ${visible(goal.title)}</h1>
<section class="card"><div class="meta"><span class="badge ${goal.status}">${goal.status}</span> ${goal.priority} · namespace ${visible(goal.namespace)} · created ${when(goal.created_at)} · updated ${when(goal.updated_at)}</div>
${goal.description ? html`<div class="content">${visible(goal.description)}</div>` : ''}
${goal.success_criteria.length ? html`<p class="meta">Success criteria:</p><ul>${goal.success_criteria.map((c) => html`<li>${visible(c)}</li>`)}</ul>` : ''}
${goal.tags.length ? html`<div>${tags(goal.tags)}</div>` : ''}
${parent ? html`<div class="meta">part of <a href="${goalHref(parent.id)}">${visible(parent.title)}</a></div>` : goal.parent_goal_id ? html`<div class="meta">part of <a href="${goalHref(goal.parent_goal_id)}">${goal.parent_goal_id}</a></div>` : ''}</section>
<h2>Plan${goal.plan_version ? ` (revision ${goal.plan_version})` : ''}</h2>
${goal.steps.length ? html`<ol class="steps">${goal.steps.map((s) => html`<li><span class="badge ${s.status}">${s.status}</span> ${visible(s.title)}${s.detail ? html`<div class="meta">${visible(s.detail)}</div>` : ''}${s.result_note ? html`<div class="meta">result: ${visible(s.result_note)}</div>` : ''}</li>`)}</ol>` : html`<p class="meta">No plan.</p>`}
${subGoals.length ? html`<h2>Sub-goals</h2><ul>${subGoals.map((g) => html`<li>${goalLine(g)}</li>`)}</ul>` : ''}
<h2>Outcomes (${goal.outcomes_total})</h2>${goal.outcomes.length ? html`<ul>${goal.outcomes.map(outcomeItem)}</ul>` : html`<p class="meta">None recorded.</p>`}
<h2>Plan history</h2>${goal.plan_history.length ? html`<ul>${goal.plan_history.map((p) => html`<li>revision ${p.version} <span class="meta">${when(p.created_at)}${p.reason ? html` · ${visible(p.reason)}` : ''}</span><ol>${p.steps.map((s) => html`<li><span class="badge ${s.status}">${s.status}</span> ${visible(s.title)}</li>`)}</ol></li>`)}</ul>` : html`<p class="meta">No earlier revision.</p>`}
${metaBlock(goal.metadata)}`;
  return page(frame, `Goal ${goal.title}`, body);
}

const metaBlock = (metadata: Record<string, unknown>): Html => (Object.keys(metadata).length ? html`<h2>Metadata</h2><pre>${visible(JSON.stringify(metadata, null, 2))}</pre>` : html``);

export function auditTable(rows: readonly NumberedAuditRow[]): Html {
  if (!rows.length) return html`<p class="meta">No calls recorded.</p>`;
  return html`<table><thead><tr><th>#</th><th>time</th><th>tool</th><th>principal</th><th>status</th><th>namespace</th><th class="num">ms</th><th>client</th><th>ids</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.seq}</td><td>${when(r.at)}</td><td>${visible(r.tool)}</td><td>${visible(r.principal_id ?? '')}</td><td><span class="badge ${r.status}">${r.status}</span>${r.error_code ? html` <span class="meta">${visible(r.error_code)}</span>` : ''}</td><td>${visible(r.namespace ?? '')}</td><td class="num">${r.duration_ms.toFixed(1)}</td><td>${visible(r.client_name ?? '')}</td><td class="meta">${idsCell(r)}</td></tr>`)}
</tbody></table>`;
}

function idsCell(r: NumberedAuditRow): Html {
  const link = (id: string): Html => html`<a href="${memoryHref(id)}">${id.slice(0, 10)}…</a> `;
  return html`${r.ids_touched.length ? html`touched ${r.ids_touched.slice(0, 3).map(link)}${r.ids_touched.length > 3 ? `+${r.ids_touched.length - 3}` : ''} ` : ''}${r.ids_returned.length ? html`returned ${r.ids_returned.length}` : ''}`;
}

export interface AuditForm {
  tool: string;
  principal: string;
  status: string;
  since: string;
  until: string;
  before: number | null;
}

export function auditPage(frame: Frame, form: AuditForm, rows: NumberedAuditRow[], pageSize: number): Html {
  const next = rows.length === pageSize ? rows[rows.length - 1]!.seq : null;
  const base = { tool: form.tool, principal: form.principal, status: form.status, since: form.since, until: form.until };
  const body = html`<h1>Audit trail</h1>
<form class="filters" method="get" action="/ui/audit">
<label>Tool<input name="tool" value="${form.tool}" maxlength="100" placeholder="search_memory"></label>
<label>Principal<input name="principal" value="${form.principal}" maxlength="200" placeholder="key id or local"></label>
<label>Status<select name="status"><option value="">any</option>${['ok', 'invalid', 'error'].map((s) => option(s, form.status === s))}</select></label>
<label>Since<input type="date" name="since" value="${form.since}"></label>
<label>Until<input type="date" name="until" value="${form.until}"></label>
<button type="submit">Filter</button></form>
${frame.principal.namespaces ? notice(`Only calls in ${frame.principal.namespaces.join(', ')} are shown (this key is limited to them).`) : ''}
${auditTable(rows)}
<div class="pager">${form.before !== null ? html`<a href="/ui/audit${query(base)}">Newest</a>` : ''}${next !== null ? html`<a href="/ui/audit${query({ ...base, before: next })}">Older</a>` : ''}</div>`;
  return page(frame, 'Audit trail', body);
}

export function loginPage(csrf: string, keysRequired: boolean, message: string | null): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>Sign in · Pinak Memory</title><link rel="stylesheet" href="/ui/ui.css"></head>
<body><header><span class="brand">Pinak Memory</span></header><main class="login"><h1>Sign in</h1>${message ? notice(message, 'error') : ''}
${keysRequired
    ? html`<form method="post" action="/ui/login"><input type="hidden" name="csrf" value="${csrf}"><label>API key (or bearer token)<input type="password" name="key" autocomplete="off" required maxlength="8192"></label><button type="submit">Sign in</button></form>
<p class="meta">The key is kept in this server's memory for the session only, checked again on each page, and never stored in the browser: the browser holds a random session cookie.</p>`
    : html`<p>This server requires no API key, so the browser signs in with a one-time link: run <code>pinak-memory ui</code> (or look for "memory browser" in the server's log) and open the link it prints.</p>`}
</main></body></html>`;
}
