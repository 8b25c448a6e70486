import { auditExportCommand, auditFamily, auditFingerprintCommand } from './audit.js';
import type { Command, Family } from './command.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { keysCreateCommand, keysFamily, keysListCommand, keysRevokeCommand } from './keys.js';
import { migrateStoreCommand } from './migrate-store.js';
import { goalsCommand, searchCommand, statsCommand } from './read-commands.js';
import { reindexCommand } from './reindex.js';
import { reviewApproveCommand, reviewFamily, reviewListCommand, reviewRejectCommand, reviewShowCommand } from './review.js';
import { serveCommand } from './serve.js';
import { setupCommand } from './setup.js';
import { uiCommand } from './ui.js';

/** Every command, in the order the global help lists them (a family's members together). */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  setupCommand,
  uiCommand,
  searchCommand,
  goalsCommand,
  statsCommand,
  exportCommand,
  importCommand,
  reindexCommand,
  migrateStoreCommand,
  keysCreateCommand,
  keysListCommand,
  keysRevokeCommand,
  auditExportCommand,
  auditFingerprintCommand,
  reviewListCommand,
  reviewShowCommand,
  reviewApproveCommand,
  reviewRejectCommand,
];

export const FAMILIES: readonly Family[] = [keysFamily, auditFamily, reviewFamily];
