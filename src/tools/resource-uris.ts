import type { ResourceLink } from '@modelcontextprotocol/sdk/types.js';

/** The scheme of every resource this server serves. */
export const SCHEME = 'pinak://';

/** Fixed resources: a principal's active goals, its newest memories, the store's counts. */
export const ACTIVE_GOALS_URI = `${SCHEME}goals/active`;
export const RECENT_URI = `${SCHEME}recent`;
export const STATS_URI = `${SCHEME}stats`;

/** Templates of the resources that name a record. */
export const GOAL_TEMPLATE = `${SCHEME}goal/{id}`;
export const MEMORY_TEMPLATE = `${SCHEME}memory/{id}`;

export const goalUri = (id: string): string => `${SCHEME}goal/${id}`;
export const memoryUri = (id: string): string => `${SCHEME}memory/${id}`;

/** Ids as the record URIs carry them: ULIDs, or any id of letters, digits, - and _ up to 64 characters. */
const RECORD_URI = /^pinak:\/\/(goal|memory)\/([0-9A-Za-z_-]{1,64})$/;

export type ParsedUri =
  | { kind: 'active-goals' | 'recent' | 'stats' }
  | { kind: 'goal' | 'memory'; id: string };

/** What a URI names, or null when it names nothing this server serves. */
export function parseResourceUri(uri: string): ParsedUri | null {
  if (uri === ACTIVE_GOALS_URI) return { kind: 'active-goals' };
  if (uri === RECENT_URI) return { kind: 'recent' };
  if (uri === STATS_URI) return { kind: 'stats' };
  const match = RECORD_URI.exec(uri);
  if (!match) return null;
  return { kind: match[1] as 'goal' | 'memory', id: match[2]! };
}

/** A link a client can open with resources/read: small, since a model reads every one. */
export const recordLink = (kind: 'goal' | 'memory', id: string, title?: string): ResourceLink => ({
  type: 'resource_link',
  uri: kind === 'goal' ? goalUri(id) : memoryUri(id),
  name: `${kind} ${id}`,
  ...(title === undefined ? {} : { title: title.length > 80 ? `${title.slice(0, 79)}…` : title }),
  mimeType: 'text/markdown',
});
