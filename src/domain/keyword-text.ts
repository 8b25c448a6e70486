/**
 * The version of what records are indexed by in the keyword index (their
 * text, a goal's title for the memories serving it, the dates a memory's
 * time expressions mean, the day and "tells a time" terms). Raised whenever
 * that changes, so that a store written before says so at start: 1 is the
 * first version that records it, dates understood.
 */
export const KEYWORD_TEXT_VERSION = 1;
