/** A Shell wrapper the benches use to count what the operator machine sends to a Proxmox host. */
import type { Shell, RunOptions } from '../src/shell/shell.js';
import type { ScriptSession } from '../src/shell/session.js';

/** Counts round trips (one per command or per script sent to a session) and pct starts (one per `pct exec` or session opened). */
export class CountingShell implements Shell {
  calls = 0;
  pctStarts = 0;
  constructor(readonly inner: Shell) {}
  get host() {
    return this.inner.host;
  }
  run(argv: readonly string[], opts?: RunOptions) {
    this.calls++;
    if (argv[0] === 'pct' && argv[1] === 'exec') this.pctStarts++;
    return this.inner.run(argv, opts);
  }
  openSession(argv: readonly string[]): ScriptSession {
    const inner = this.inner.openSession!(argv);
    this.pctStarts++;
    const count = () => this.calls++;
    return {
      get alive() {
        return inner.alive;
      },
      get busy() {
        return inner.busy;
      },
      run: (script, o) => {
        count();
        return inner.run(script, o);
      },
      close: () => inner.close(),
    };
  }
  close() {
    return this.inner.close();
  }
}
