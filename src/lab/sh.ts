/**
 * The lab's small sh interpreter (dash-like messages): lists, && ||, pipelines, quotes,
 * parameter expansion, $(...), assignments and export, set -e/-u, redirections, & and wait,
 * and a few builtins. Other programs are run through the `ShHost` it is given.
 *
 * By concern, in src/lab/sh/: parse.ts (the grammar it accepts), expand.ts (word expansion),
 * builtins.ts and test.ts (the builtins), interp.ts (how commands run), program.ts (`sh` and
 * its options), types.ts (what it exchanges with the programs it runs).
 */
export { Output, type ExecResult, type Invocation, type ShExec, type ShHost, type ShOptions } from './sh/types.js';
export { runSh, runShProgram } from './sh/program.js';
export { evalTest } from './sh/test.js';
