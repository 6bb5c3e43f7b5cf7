/**
 * The inventory file: find it, load and validate it, write it back. Importing this module
 * loads neither yaml nor zod (they load on first parse or render; see ./deps.ts).
 */
export type * from './types.js';
export { parseInventory, type ParseOptions } from './parse.js';
export { loadInventory, type LoadOptions } from './load.js';
export { renderInventory } from './render.js';
export { findInventoryFile, inventoryCandidates, type FindInventoryOptions } from './discover.js';
export { cacheDir, configDir, stateDir, homeDir, resolveUserPath } from './paths.js';
export { parseDuration, formatDuration } from './duration.js';
export { InventoryValidationError, formatIssue, type InventoryIssue } from './issues.js';
export {
  DEFAULT_CHANNEL_URL,
  DEFAULT_INSTALL_SCRIPT_URL,
  DEFAULT_K3S,
  DEFAULT_DRAIN,
  DEFAULT_UPGRADE,
  LAB_CHANNEL_URL,
} from './defaults.js';
