import type { AnyTool } from './define-tool.js';
import { forgetTool } from './forget.js';
import { getGoalTool } from './get-goal.js';
import { getMemoryTool } from './get-memory.js';
import { listGoalsTool } from './list-goals.js';
import { memoryStatsTool } from './memory-stats.js';
import { recordOutcomeTool } from './record-outcome.js';
import { rememberGoalTool } from './remember-goal.js';
import { rememberTool } from './remember.js';
import { searchMemoryTool } from './search-memory.js';

/** Every tool the server offers: the contract. Keep the set small. */
export const TOOLS: readonly AnyTool[] = [
  rememberTool,
  rememberGoalTool,
  recordOutcomeTool,
  searchMemoryTool,
  getMemoryTool,
  getGoalTool,
  listGoalsTool,
  forgetTool,
  memoryStatsTool,
] as unknown as readonly AnyTool[];
