#!/usr/bin/env node
/**
 * The harness's daemon process (daemon.ts): `node harness-daemon.js <rootsDir>`, started by
 * startRealShHosts (realsh.ts). Serves ssh sessions (host-sh.ts), `pct` (lab-pct.ts), the
 * lab's `pvesh` (lab-shim.ts) and the model programs of containers (lab-program.ts).
 */
import { rootsConfig } from './ct-sandbox.js';
import { listen } from './daemon.js';
import { hostSession } from './host-sh.js';
import { labPct } from './lab-pct.js';
import { labProgram } from './lab-program.js';
import { labShim } from './lab-shim.js';

async function main(rootsDir: string | undefined): Promise<void> {
  if (!rootsDir) throw new Error('usage: harness-daemon <rootsDir>');
  const server = await listen(
    { rootsDir, cfg: rootsConfig(rootsDir) },
    { 'host-sh': hostSession, pct: labPct, program: labProgram, shim: labShim },
  );
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  // The test process is gone (its end of our stdin closed): so are we.
  process.stdin.on('end', stop).on('error', stop).resume();
  process.stdout.write('ready\n');
}

main(process.argv[2]).catch((e: unknown) => {
  process.stderr.write(`pve-k3s e2e daemon: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
