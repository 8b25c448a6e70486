import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new sortable unique id (ULID): lexical order is creation order. */
export function newId(): string {
  return nextUlid();
}

/** Crockford base32, 26 characters: the shape of every id we hand out. */
export const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
