import type { Goal, GoalSummary } from '../domain/goal.js';
import { GOAL_STATUSES } from '../domain/goal.js';
import type { Memory } from '../domain/memory.js';
import { LAYERS } from '../domain/memory.js';
import type { RatedHit } from '../domain/search.js';
import type { AuditQuery, NumberedAuditRow } from '../store/store.js';
import { decide, forgetMemory, review, supersedeMemory } from './admin-actions.js';
import { chartsPage } from './charts-page.js';
import { mayReadAudit } from './layout.js';
import { FLASH, getMemory, ok, param, recordUiCall, UiError, type PageAnswer, type PageRequest } from './page-request.js';
import { auditPage, goalPage, goalsPage, memoryPage, searchPage, type AuditForm, type MemoryView, type SearchForm } from './pages.js';

export { UiError, type PageAnswer, type PageRequest } from './page-request.js';

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
