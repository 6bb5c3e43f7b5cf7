export type { RunOptions, RunResult, Shell } from './shell.js';
export { quoteArg, quoteCommand } from './quote.js';
export { LocalShell, type LocalShellOptions } from './local-shell.js';
export { SshShell, type SshShellOptions } from './ssh-shell.js';
export { classifySshStderr, type SshFailure, type SshFailureKind } from './ssh-failure.js';
export { defaultControlDir } from './control-dir.js';
export { ProcessSession, SessionLostError, sessionRequest, findResponse, type ScriptSession, type SessionRunOptions } from './session.js';
