/** A Shell that tells a test what goes through it: every script or command sent, every session opened. */
import type { RunOptions, Shell } from '../../src/shell/shell.js';
import type { ScriptSession } from '../../src/shell/session.js';

export interface Watcher {
  /** A command run (its stdin, else its argv joined) or a script sent to a session. */
  sent?: (text: string) => void;
  /** A session opened (`pct exec <vmid> -- sh -s`). */
  opened?: (argv: readonly string[]) => void;
}

export function watching(inner: Shell, w: Watcher): Shell {
  return {
    host: inner.host,
    close: () => inner.close(),
    run: (argv: readonly string[], o?: RunOptions) => {
      w.sent?.(o?.stdin ?? argv.join(' '));
      return inner.run(argv, o);
    },
    openSession: (argv: readonly string[]): ScriptSession => {
      w.opened?.(argv);
      const s = inner.openSession!(argv);
      return {
        get alive() {
          return s.alive;
        },
        get busy() {
          return s.busy;
        },
        run: (script, o) => {
          w.sent?.(script);
          return s.run(script, o);
        },
        close: () => s.close(),
      };
    },
  };
}
