import type { Goal, GoalSummary } from '../domain/goal.js';
import { GOAL_STATUSES } from '../domain/goal.js';
import type { Memory } from '../domain/memory.js';
import { LAYERS } from '../domain/memory.js';
import type { RatedHit } from '../domain/search.js';
import type { Runtime } from '../runtime.js';
import type { AuditQuery, NumberedAuditRow } from '../store/store.js';
import { chartsPage } from './charts-page.js';
import type { Html } from './html.js';
import { isAdmin, mayReadAudit, type Frame } from './layout.js';
import { auditPage, goalPage, goalsPage, memoryPage, reviewPage, searchPage, type AuditForm, type MemoryView, type SearchForm } from './pages.js';
import { MemoryError } from '../domain/errors.js';
import { UI_CLIENT_NAME, type ToolCaller } from './tool-calls.js';

/** A refusal or failure the browser is told about, with its HTTP status. */
export class UiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface PageRequest {
  readonly runtime: Runtime;
  readonly tools: ToolCaller;
  readonly frame: Frame;
  /** The browser session's id in the audit trail. */
  readonly auditSession: string;
  readonly method: string;
  readonly path: string;
  readonly params: URLSearchParams;
  /** A POST's fields (already checked for origin and CSRF token). */
  readonly form: URLSearchParams | null;
}

export type PageAnswer = { kind: 'page'; status: number; page: Html } | { kind: 'redirect'; location: string };

const ok = (page: Html, status = 200): PageAnswer => ({ kind: 'page', status, page });

/** Fixed notices a redirect may ask for by name: no text of the request is ever shown back. */
const FLASH: Record<string, string> = {
  forgotten: 'The memory was forgotten (deleted for good); the audit trail records it under your sign-in.',
  superseded: 'The correction was stored; the old memory is kept, hidden from search.',
  approved: 'The memory was approved: it is searchable from now on. The audit trail records it under your sign-in.',
  rejected: 'The memory was rejected (deleted). The audit trail records it under your sign-in.',
};

/** A query parameter, trimmed and cut to `max` characters. */
const param = (params: URLSearchParams, name: string, max = 200): string => (params.get(name) ?? '').trim().slice(0, max);
const list = (text: string, max = 20): string[] => [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))].slice(0, max);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[0-9A-Za-z_-]{1,64}$/;

/** The one record id a path names, e.g. /ui/memory/ID/forget. */
function idIn(path: string, prefix: string): { id: string; rest: string } | null {
  if (!path.startsWith(prefix)) return null;
  const [raw = '', ...rest] = path.slice(prefix.length).split('/');
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw new UiError(400, 'the address names no valid id');
  }
  if (!ID.test(id)) throw new UiError(404, 'no record has that id');
  return { id, rest: rest.join('/') };
}

export async function handlePage(req: PageRequest): Promise<PageAnswer> {
  const { path, method } = req;
  if (path === '/ui/' && method === 'GET') return search(req);
  if (path === '/ui/goals' && method === 'GET') return goals(req);
  if (path === '/ui/audit' && method === 'GET') return audit(req);
  if (path === '/ui/charts' && method === 'GET') return ok(await chartsPage(req));
  if (path === '/ui/review' && method === 'GET') return review(req);
  const held = idIn(path, '/ui/review/');
  if (held && (held.rest === 'approve' || held.rest === 'reject') && method === 'POST') return decide(req, held.id, held.rest);
  const memory = idIn(path, '/ui/memory/');
  if (memory) {
    if (memory.rest === '' && method === 'GET') return memoryAnswer(req, memory.id);
    if (memory.rest === 'forget' && method === 'POST') return forgetMemory(req, memory.id);
    if (memory.rest === 'supersede' && method === 'POST') return supersedeMemory(req, memory.id);
  }
  const goal = idIn(path, '/ui/goal/');
  if (goal && goal.rest === '' && method === 'GET') return goalAnswer(req, goal.id);
  throw new UiError(404, `there is no page at ${path.slice(0, 200)}`);
}

async function search(req: PageRequest): Promise<PageAnswer> {
  const p = req.params;
  const allowed = req.frame.principal.namespaces;
  const layer = param(p, 'layer', 20);
  const form: SearchForm = {
    q: param(p, 'q', 2000),
    mode: ['hybrid', 'keyword', 'vector'].includes(param(p, 'mode')) ? param(p, 'mode') : 'hybrid',
    namespace: param(p, 'namespace', 64) || (allowed?.[0] ?? ''),
    layers: (LAYERS as readonly string[]).includes(layer) ? [layer] : [],
    kinds: param(p, 'kinds', 500),
    tags_any: param(p, 'tags_any', 500),
    tags_all: param(p, 'tags_all', 500),
    goal_id: param(p, 'goal_id', 64),
    since: DATE.test(param(p, 'since')) ? param(p, 'since') : '',
    until: DATE.test(param(p, 'until')) ? param(p, 'until') : '',
    time_field: param(p, 'time_field') === 'created_at' ? 'created_at' : 'occurred_at',
    include_superseded: p.get('include_superseded') === '1',
    limit: Math.max(1, Math.min(100, Number.parseInt(param(p, 'limit', 4), 10) || 20)),
  };
  const args: Record<string, unknown> = { query: form.q, mode: form.mode, limit: form.limit, time_field: form.time_field, include_superseded: form.include_superseded, context: 1, snippet_chars: 400 };
  if (form.namespace) args.namespace = form.namespace;
  if (form.layers.length) args.layers = form.layers;
  if (list(form.kinds).length) args.kinds = list(form.kinds);
  if (list(form.tags_any).length) args.tags_any = list(form.tags_any);
  if (list(form.tags_all).length) args.tags_all = list(form.tags_all);
  if (form.goal_id) args.goal_id = form.goal_id;
  if (form.since) args.since = form.since;
  // A day given as the end is included whole, as on the audit page.
  if (form.until) args.until = `${form.until}T23:59:59.999Z`;
  const answer = await req.tools.call<{ hits: RatedHit[]; mode: string; terms: string[]; note?: string }>('search_memory', args);
  const flash = FLASH[param(p, 'done', 20)] ?? null;
  return ok(searchPage(req.frame, form, answer.ok ? answer.value : null, answer.ok ? null : answer.message, flash), answer.ok ? 200 : 400);
}

/** One memory through get_memory; a UiError 404 when it is not there (or not in this key's namespaces). */
async function getMemory(req: PageRequest, id: string): Promise<Memory> {
  const answer = await req.tools.call<{ memories: Memory[] }>('get_memory', { id });
  if (!answer.ok || !answer.value.memories[0]) throw new UiError(404, answer.ok ? `no memory with id ${id}` : answer.message);
  return answer.value.memories[0];
}

/** Most versions followed each way along a supersede chain. */
const MAX_CHAIN = 10;

async function memoryAnswer(req: PageRequest, id: string): Promise<PageAnswer> {
  const memory = await getMemory(req, id);
  const older: Memory[] = [];
  const newer: Memory[] = [];
  for (let next = memory.supersedes; next && older.length < MAX_CHAIN; ) {
    const found = await req.tools.call<{ memories: Memory[] }>('get_memory', { id: next });
    if (!found.ok || !found.value.memories[0]) break;
    older.push(found.value.memories[0]);
    next = found.value.memories[0].supersedes;
  }
  for (let next = memory.superseded_by; next && newer.length < MAX_CHAIN; ) {
    const found = await req.tools.call<{ memories: Memory[] }>('get_memory', { id: next });
    if (!found.ok || !found.value.memories[0]) break;
    newer.push(found.value.memories[0]);
    next = found.value.memories[0].superseded_by;
  }
  const view: MemoryView = { memory, older, newer, neighbours: await neighbours(req, memory), access: await accessLog(req, memory.id) };
  return ok(memoryPage(req.frame, view, FLASH[param(req.params, 'done', 20)] ?? null, null));
}

/**
 * A thread memory's neighbours, as search_memory gives them with context:
 * the memory found by its own words in its namespace (superseded ones
 * included), and the memories on either side of it in its thread. None
 * when another memory outranks it for its own words (a duplicate text).
 */
async function neighbours(req: PageRequest, memory: Memory): Promise<MemoryView['neighbours']> {
  if (!memory.thread_id) return [];
  const answer = await req.tools.call<{ hits: RatedHit[] }>('search_memory', {
    query: memory.content.slice(0, 2000),
    mode: 'keyword',
    namespace: memory.namespace,
    include_superseded: true,
    // One hit: the memory itself (its own words rank it first), so every neighbour comes as its context, none as a hit of its own.
    limit: 1,
    context: 2,
    snippet_chars: 200,
  });
  if (!answer.ok) return [];
  return answer.value.hits.find((hit) => hit.id === memory.id)?.context ?? [];
}

/** Rows of the audit trail that read or changed a record: for those who may read the trail. */
async function accessLog(req: PageRequest, id: string): Promise<NumberedAuditRow[] | null> {
  if (!mayReadAudit(req.frame)) return null;
  return readAuditRows(req, { touching: id, limit: 50 }, [id]);
}

/**
 * Read the audit trail for the browser, confined to the principal's
 * namespaces, and record that read in the trail itself (who looked, at
 * what), like any tool call.
 */
async function readAuditRows(req: PageRequest, query: Omit<AuditQuery, 'namespaces'>, about: string[]): Promise<NumberedAuditRow[]> {
  const started = performance.now();
  const full: AuditQuery = { ...query, namespaces: req.frame.principal.namespaces };
  const rows = await req.runtime.store.readAudit(full);
  await recordUiCall(req, { tool: 'ui read_audit', namespace: null, args: full, touched: [], returned: about, started, durable: false });
  return rows;
}

/** The review queue of the tenant, confined to the key's namespaces when it has a limit. */
async function review(req: PageRequest): Promise<PageAnswer> {
  requireAdmin(req, 'the review queue');
  const allowed = req.frame.principal.namespaces;
  const held = (await req.runtime.review.held()).filter((m) => allowed === null || allowed.includes(m.namespace));
  await recordReview(req, 'ui review list', null, [], held.map((m) => m.id), false);
  return ok(reviewPage(req.frame, held, FLASH[param(req.params, 'done', 20)] ?? null));
}

/** Approve or reject a held memory (of the key's namespaces), audited with the signed-in principal. */
async function decide(req: PageRequest, id: string, decision: 'approve' | 'reject'): Promise<PageAnswer> {
  requireAdmin(req, 'a review decision');
  const allowed = req.frame.principal.namespaces;
  try {
    const memory = await req.runtime.review.get(id);
    if (allowed !== null && !allowed.includes(memory.namespace)) throw new UiError(404, `no memory held for review with id ${id}`);
    if (decision === 'approve') await req.runtime.review.approve(id);
    else await req.runtime.review.reject(id);
    await recordReview(req, `review ${decision}`, memory.namespace, [id], [id], true);
  } catch (error) {
    if (error instanceof MemoryError) throw new UiError(error.code === 'invalid_input' ? 400 : error.code === 'not_found' ? 404 : 409, error.message);
    throw error;
  }
  return { kind: 'redirect', location: `/ui/review?done=${decision === 'approve' ? 'approved' : 'rejected'}` };
}

/** One audit row of the review queue, by the signed-in principal (as the browser's reads of the trail are). */
const recordReview = (req: PageRequest, tool: string, namespace: string | null, touched: string[], returned: string[], durable: boolean): Promise<void> =>
  recordUiCall(req, { tool, namespace, args: { tool, ids: touched }, touched, returned, started: null, durable });

/** An audit row of something the browser did, by the signed-in principal, like any tool call's. */
async function recordUiCall(
  req: PageRequest,
  call: { tool: string; namespace: string | null; args: unknown; touched: string[]; returned: string[]; started: number | null; durable: boolean },
): Promise<void> {
  const { principal } = req.frame;
  const args = req.runtime.audit.fingerprint(call.args);
  await req.runtime.audit.record({
    at: new Date().toISOString(),
    tool: call.tool,
    namespace: call.namespace,
    client_name: UI_CLIENT_NAME,
    client_version: null,
    session_id: req.auditSession,
    args_sha256: args.sha256,
    args_bytes: args.bytes,
    status: 'ok',
    error_code: null,
    duration_ms: call.started === null ? 0 : Math.round((performance.now() - call.started) * 1000) / 1000,
    ids_touched: call.touched,
    ids_returned: call.returned,
    principal_id: principal.id,
    tenant: principal.tenant,
    remote_address: principal.remoteAddress,
  }, call.durable);
}

function requireAdmin(req: PageRequest, what: string): void {
  if (!isAdmin(req.frame)) throw new UiError(403, `${what} needs the admin role (this key is a ${req.frame.principal.role})`);
}

async function forgetMemory(req: PageRequest, id: string): Promise<PageAnswer> {
  requireAdmin(req, 'forgetting a memory');
  const reason = (req.form?.get('reason') ?? '').slice(0, 500);
  const answer = await req.tools.call<{ forgotten: string[] }>('forget', { ids: [id], ...(reason ? { reason } : {}) });
  if (!answer.ok) throw new UiError(400, answer.message);
  if (!answer.value.forgotten.includes(id)) throw new UiError(404, `no memory with id ${id} (forgotten already?)`);
  return { kind: 'redirect', location: '/ui/?done=forgotten' };
}

async function supersedeMemory(req: PageRequest, id: string): Promise<PageAnswer> {
  requireAdmin(req, 'correcting a memory');
  const content = req.form?.get('content') ?? '';
  if (content.trim() === '') throw new UiError(400, 'the corrected text is empty');
  const old = await getMemory(req, id);
  const args: Record<string, unknown> = { content, layer: old.layer, kind: old.kind, tags: old.tags, metadata: old.metadata, importance: old.importance, namespace: old.namespace, supersedes: old.id, origin: 'user' };
  if (old.goal_id) args.goal_id = old.goal_id;
  if (old.thread_id) args.thread_id = old.thread_id;
  const answer = await req.tools.call<{ stored: Array<{ id: string }> }>('remember', args);
  if (!answer.ok) throw new UiError(400, answer.message);
  return { kind: 'redirect', location: `/ui/memory/${encodeURIComponent(answer.value.stored[0]!.id)}?done=superseded` };
}

async function goals(req: PageRequest): Promise<PageAnswer> {
  const asked = req.params.getAll('status').filter((s) => (GOAL_STATUSES as readonly string[]).includes(s));
  const statuses = asked.length ? [...new Set(asked)] : ['active'];
  const allowed = req.frame.principal.namespaces;
  const namespace = param(req.params, 'namespace', 64) || (allowed?.[0] ?? '');
  const answer = await req.tools.call<{ goals: GoalSummary[] }>('list_goals', { statuses, limit: 100, ...(namespace ? { namespace } : {}) });
  return ok(goalsPage(req.frame, answer.ok ? answer.value.goals : [], statuses, namespace, answer.ok ? null : answer.message), answer.ok ? 200 : 400);
}

async function goalAnswer(req: PageRequest, id: string): Promise<PageAnswer> {
  const answer = await req.tools.call<{ goal: Goal }>('get_goal', { goal_id: id });
  if (!answer.ok) throw new UiError(404, answer.message);
  const goal = answer.value.goal;
  let parent: GoalSummary | null = null;
  if (goal.parent_goal_id) {
    const found = await req.tools.call<{ goal: Goal }>('get_goal', { goal_id: goal.parent_goal_id });
    parent = found.ok ? found.value.goal : null;
  }
  const subs = await req.tools.call<{ goals: GoalSummary[] }>('list_goals', { parent_goal_id: goal.id, statuses: [...GOAL_STATUSES], namespace: goal.namespace, limit: 100 });
  return ok(goalPage(req.frame, goal, parent, subs.ok ? subs.value.goals : []));
}

const PAGE_SIZE = 50;

async function audit(req: PageRequest): Promise<PageAnswer> {
  if (!mayReadAudit(req.frame)) throw new UiError(403, `the audit trail shows every key's calls: it needs the admin role (this key is a ${req.frame.principal.role})`);
  const p = req.params;
  const before = Number.parseInt(param(p, 'before', 20), 10);
  const status = param(p, 'status', 10);
  const form: AuditForm = {
    tool: param(p, 'tool', 100),
    principal: param(p, 'principal', 200),
    status: ['ok', 'invalid', 'error'].includes(status) ? status : '',
    since: DATE.test(param(p, 'since')) ? param(p, 'since') : '',
    until: DATE.test(param(p, 'until')) ? param(p, 'until') : '',
    before: Number.isSafeInteger(before) && before > 0 ? before : null,
  };
  const query: Omit<AuditQuery, 'namespaces'> = { limit: PAGE_SIZE };
  if (form.tool) query.tool = form.tool;
  if (form.principal) query.principal_id = form.principal;
  if (form.status) query.status = form.status as AuditQuery['status'] & string;
  if (form.since) query.since = form.since;
  if (form.until) query.until = `${form.until}T23:59:59.999Z`;
  if (form.before !== null) query.before = form.before;
  const rows = await readAuditRows(req, query, []);
  return ok(auditPage(req.frame, form, rows, PAGE_SIZE));
}
