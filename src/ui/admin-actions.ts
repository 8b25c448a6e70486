import { MemoryError } from '../domain/errors.js';
import { reviewPage } from './pages.js';
import { FLASH, getMemory, ok, param, recordUiCall, requireAdmin, UiError, type PageAnswer, type PageRequest } from './page-request.js';

/* What an admin does from the memory browser: decide on held memories, forget and correct memories. Each is a tool call or a review decision under the signed-in principal, audited. */

/** The review queue of the tenant, confined to the key's namespaces when it has a limit. */
export async function review(req: PageRequest): Promise<PageAnswer> {
  requireAdmin(req, 'the review queue');
  const allowed = req.frame.principal.namespaces;
  const held = (await req.runtime.review.held()).filter((m) => allowed === null || allowed.includes(m.namespace));
  await recordReview(req, 'ui review list', null, [], held.map((m) => m.id), false);
  return ok(reviewPage(req.frame, held, FLASH[param(req.params, 'done', 20)] ?? null));
}

/** Approve or reject a held memory (of the key's namespaces), audited with the signed-in principal. */
export async function decide(req: PageRequest, id: string, decision: 'approve' | 'reject'): Promise<PageAnswer> {
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

export async function forgetMemory(req: PageRequest, id: string): Promise<PageAnswer> {
  requireAdmin(req, 'forgetting a memory');
  const reason = (req.form?.get('reason') ?? '').slice(0, 500);
  const answer = await req.tools.call<{ forgotten: string[] }>('forget', { ids: [id], ...(reason ? { reason } : {}) });
  if (!answer.ok) throw new UiError(400, answer.message);
  if (!answer.value.forgotten.includes(id)) throw new UiError(404, `no memory with id ${id} (forgotten already?)`);
  return { kind: 'redirect', location: '/ui/?done=forgotten' };
}

export async function supersedeMemory(req: PageRequest, id: string): Promise<PageAnswer> {
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
