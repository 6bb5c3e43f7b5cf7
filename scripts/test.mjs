// Runs every compiled test file with Node's built-in runner. Node 20's `--test` has no glob
// support, so the file list is made here; extra arguments are passed through (e.g. a filter).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
// Only tests whose source still exists: a moved or deleted test leaves its old .js in dist/.
let files = find('dist/test').filter((f) => existsSync(f.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts')));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
