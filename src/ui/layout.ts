import type { Principal } from '../domain/principal.js';
import { roleIncludes } from '../domain/principal.js';
import { html, type Html } from './html.js';

/** What every signed-in page knows: who is looking, and the CSRF token its forms carry. */
export interface Frame {
  readonly principal: Principal;
  readonly csrf: string;
  /** Signed in by the local one-time link (no key). */
  readonly local: boolean;
}

export const isAdmin = (frame: Frame): boolean => roleIncludes(frame.principal.role, 'admin');

/** The audit trail shows every principal's calls: admins of the tenant only (limited to their namespaces if their key is). */
export const mayReadAudit = isAdmin;

/** A hidden field with the session's CSRF token: every POST form has one. */
export const csrfField = (frame: Pick<Frame, 'csrf'>): Html => html`<input type="hidden" name="csrf" value="${frame.csrf}">`;

function who(frame: Frame): Html {
  const p = frame.principal;
  const namespaces = p.namespaces === null ? 'every namespace' : `namespaces ${p.namespaces.join(', ')}`;
  return html`<span class="who">${frame.local ? 'local user' : `key ${p.id}`} · ${p.role} · tenant ${p.tenant} · ${namespaces}</span>`;
}

/** A whole page for a signed-in user. */
export function page(frame: Frame, title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${title} · Pinak Memory</title><link rel="stylesheet" href="/ui/ui.css"></head>
<body><header><span class="brand">Pinak Memory</span><nav><a href="/ui/">Search</a><a href="/ui/goals">Goals</a>${mayReadAudit(frame) ? html`<a href="/ui/audit">Audit</a><a href="/ui/review">Review</a>` : ''}<a href="/ui/charts">Charts</a></nav>${who(frame)}
<form method="post" action="/ui/logout">${csrfField(frame)}<button class="link" type="submit">Sign out</button></form></header>
<main>${body}</main></body></html>`;
}

/** A page for someone not signed in (sign-in, errors before sign-in). */
export function barePage(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${title} · Pinak Memory</title><link rel="stylesheet" href="/ui/ui.css"></head>
<body><header><span class="brand">Pinak Memory</span></header><main>${body}</main></body></html>`;
}

export const notice = (text: string, kind: 'info' | 'error' = 'info'): Html => html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</div>`;
