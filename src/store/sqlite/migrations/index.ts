import type { Migration } from './migration.js';
import { migration0001 } from './0001-core.js';
import { migration0002 } from './0002-audit.js';
import { migration0003 } from './0003-vectors.js';
import { migration0004 } from './0004-reliability.js';
import { migration0005 } from './0005-threads.js';
import { migration0006 } from './0006-thread-windows.js';
import { migration0007 } from './0007-audit-principal.js';
import { migration0008 } from './0008-stat-counters.js';
import { migration0009 } from './0009-scope-index.js';
import { migration0010 } from './0010-vector-counters.js';
import { migration0011 } from './0011-namespace-visible-index.js';
import { migration0012 } from './0012-time-indexes.js';
import { migration0013 } from './0013-speaker-names.js';
import { migration0014 } from './0014-audit-sessions.js';
import { migration0015 } from './0015-provenance.js';
import { migration0016 } from './0016-lesson-evidence.js';
import { migration0017 } from './0017-injection-review.js';
import { migration0018 } from './0018-flagged-docs.js';
import { migration0019 } from './0019-fts-row-changes.js';
import { migration0020 } from './0020-store-settings.js';

/** Every migration, in version order. Append new ones; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008, migration0009, migration0010, migration0011, migration0012, migration0013, migration0014, migration0015, migration0016, migration0017, migration0018, migration0019, migration0020];
