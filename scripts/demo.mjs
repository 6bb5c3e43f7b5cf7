// The quick-start demo: a fresh lab in a temporary directory, then a rolling upgrade on it.
// Runs the built CLI exactly as a user would; any failing command fails the demo.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const bin = resolve('dist/src/cli/bin.js');
const work = mkdtempSync(join(tmpdir(), 'pve-k3s-demo-'));
const env = {
  ...process.env,
  XDG_STATE_HOME: join(work, 'state'),
  XDG_CACHE_HOME: join(work, 'cache'),
  XDG_CONFIG_HOME: join(work, 'config'),
};

function run(args, expect = 0) {
  process.stdout.write(`\n$ pve-k3s ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: work, env, stdio: 'inherit' });
  if (r.status !== expect) {
    process.stderr.write(`demo: \`pve-k3s ${args.join(' ')}\` exited ${r.status}, expected ${expect}\n`);
    process.exit(1);
  }
}

try {
  run(['lab', 'init']);
  run(['status']);
  run(['upgrade', '--yes']);
  run(['upgrade', '--yes']); // idempotent: the second run finds nothing to do
} finally {
  rmSync(work, { recursive: true, force: true });
}
