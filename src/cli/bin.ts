#!/usr/bin/env node
/** The executable: the only place the process exit status is set. */
import { main } from './main.js';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const { reportError } = await import('./report-error.js');
  process.exitCode = reportError(err, process.argv.includes('--verbose'));
}
