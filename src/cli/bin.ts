#!/usr/bin/env node
/** The executable: the only place the process exit status is set. */
import { main } from './main.js';

// A reader that stops early (`pve-k3s plan --help | head`, `status -o json | head -1`) closes
// the pipe: later writes are dropped, never an unhandled EPIPE crash, and never a reason to stop
// a command halfway (an upgrade whose output went to `| head` still finishes its node and its
// journal). The exit status stays the command's own.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const { reportError } = await import('./report-error.js');
  process.exitCode = reportError(err, process.argv.includes('--verbose'));
}
