import type { ServerResponse } from 'node:http';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Principal } from '../../domain/principal.js';
import type { HttpContext } from './context.js';
import { connectSession } from './mcp-session.js';
import { sendKeySessionLimit, sendTenantSessionLimit, sendUnavailable } from './responses.js';
import type { HttpSession, Reservation } from './sessions.js';

/**
 * A place for a new session of this principal, or null after answering why
 * there is none (shutting down, the server's, the key's or the tenant's session limit).
 */
export function admitSession(ctx: HttpContext, principal: Principal, res: ServerResponse): Reservation | null {
  if (!ctx.closing() && ctx.registry.keyAtLimit(principal)) {
    sendKeySessionLimit(res, ctx.registry.maxPerKey);
    return null;
  }
  if (!ctx.closing() && ctx.registry.tenantAtLimit(principal)) {
    sendTenantSessionLimit(res, ctx.registry.maxPerTenant);
    return null;
  }
  const reservation = ctx.closing() ? null : ctx.registry.reserve(principal);
  if (!reservation) sendUnavailable(res, ctx.closing(), ctx.registry.maxSessions);
  return reservation;
}

/**
 * Connect an MCP server over the principal's tenant to a new session's
 * transport, whichever kind. When the session ends, its reservation, its hold
 * on the tenant and its registry entry are given back. If connecting fails,
 * the tenant is given back and the error thrown; the reservation stays the
 * caller's to release.
 */
export async function connectTenantSession(
  ctx: HttpContext,
  principal: Principal,
  reservation: Reservation,
  transport: Transport & { readonly sessionId?: string | undefined },
  kind: HttpSession['kind'],
): Promise<{ session: HttpSession; releaseTenant: () => void }> {
  const lease = await ctx.tenants.acquire(principal.tenant);
  try {
    const session = await connectSession(lease.runtime, principal, transport, {
      kind,
      id: () => transport.sessionId,
      maxCalls: ctx.options.maxCallsPerSession,
      onClosed: (id) => {
        reservation.release();
        lease.release();
        if (id !== undefined) ctx.registry.remove(id, 'ended');
      },
    });
    return { session, releaseTenant: lease.release };
  } catch (error) {
    lease.release();
    throw error;
  }
}
