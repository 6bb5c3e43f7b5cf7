/** The whole command tree, every command of specs/index.ts: what `--help` and `completion` show, and what the tests walk. */
import { buildProgramOf } from './main.js';
import type { CommandUnknownOpts, Run } from './program.js';
import { COMMANDS } from './specs/index.js';

export function buildProgram(run: Run): CommandUnknownOpts {
  return buildProgramOf(COMMANDS, run);
}
