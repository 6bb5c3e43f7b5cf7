/**
 * Every command with -o json on the lab: its stdout parses as JSON, or it is refused with exit 2
 * and a message saying the format does not apply (a script, Prometheus text, progress notes).
 * The test fails if a command of the tree has no line here, so a new command must say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/program-tree.js';
import { walk, type CommandUnknownOpts } from '../../src/cli/program.js';
import { cliInProcess, labFixture } from '../helpers/lab-cli.js';

cliInProcess();

function pathOf(c: CommandUnknownOpts): string {
  const words: string[] = [];
  for (let x: CommandUnknownOpts | null = c; x?.parent; x = x.parent) words.unshift(x.name());
  return words.join(' ');
}

/** The argv after the command's words, and whether -o json gives a document (else a refusal). */
const CASES: Record<string, { args: string[]; json: boolean; mayFailHere?: boolean }> = {
  status: { args: [], json: true },
  plan: { args: [], json: true },
  preflight: { args: [], json: true },
  upgrade: { args: ['--dry-run'], json: true },
  resume: { args: ['--yes'], json: true },
  abandon: { args: [], json: false },
  install: { args: ['--dry-run'], json: true },
  join: { args: ['k3s-worker-1', '--dry-run'], json: true },
  uninstall: { args: ['k3s-worker-3', '--dry-run'], json: false },
  kubeconfig: { args: ['--out', 'kc.yaml'], json: false },
  backup: { args: ['--offline'], json: true },
  'backup verify': { args: [], json: true },
  'backup schedule list': { args: [], json: true },
  // talks to this machine's systemd: where it has no user bus, a clean error (exit 1, nothing on stdout)
  'backup schedule remove': { args: [], json: true, mayFailHere: true },
  restore: { args: ['BACKUP', '--yes'], json: false },
  doctor: { args: [], json: true },
  metrics: { args: [], json: false },
  'monitoring export': { args: ['--out', 'monitoring'], json: true },
  discover: { args: ['--host', 'lab:pve1'], json: true },
  'import ansible': { args: ['hosts.ini'], json: true },
  'lab init': { args: ['--dir', 'lab2', '--inventory', 'lab2.yaml'], json: true },
  'lab reset': { args: [], json: false },
  'lab status': { args: [], json: true },
  'lab migrate': { args: ['103', 'pve1'], json: false },
  'suc install': { args: ['--file', 'hosts.ini'], json: false },
  'suc pause': { args: [], json: false },
  'suc resume': { args: ['--yes'], json: true },
  'suc abandon': { args: [], json: false },
  completion: { args: ['bash'], json: false },
  version: { args: [], json: true },
  __complete: { args: ['nodes'], json: false },
};

test('GIVEN the lab WHEN every command runs with -o json THEN stdout is JSON, or a refusal with exit 2', { timeout: 600_000 }, async () => {
  const leaves = walk(buildProgram(() => undefined))
    .filter((c) => c.commands.length === 0 && c.parent)
    .map(pathOf);
  assert.deepEqual(
    leaves.filter((p) => !(p in CASES)),
    [],
    'commands without a line in CASES',
  );
  const f = await labFixture({});
  try {
    writeFileSync(join(f.dir, 'hosts.ini'), '[server]\nk3s-ctrl-1 vmid=100 pve_host=pve1\n[agent]\nk3s-worker-1 vmid=101 pve_host=pve1\n');
    let backupDir = '';
    for (const [path, c] of Object.entries(CASES)) {
      const args = c.args.map((a) => (a === 'BACKUP' ? backupDir : a));
      const r = await f.cli([...path.split(' '), ...args, '-o', 'json']);
      const what = `pve-k3s ${path} ${args.join(' ')} -o json (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
      if (c.mayFailHere && r.code === 1 && r.stdout === '' && /^error: /.test(r.stderr)) continue;
      if (c.json) {
        assert.ok(r.code === 0 || r.code === 1, what);
        let doc: unknown;
        try {
          doc = JSON.parse(r.stdout);
        } catch {
          assert.fail(`not JSON: ${what}`);
        }
        assert.equal(typeof doc, 'object', what);
        if (path === 'backup') backupDir = String((doc as { dir?: string }).dir);
      } else {
        assert.equal(r.code, 2, what);
        assert.equal(r.stdout, '', what);
        assert.match(r.stderr, new RegExp(`^error: .*: -o json does not apply to it\\n`), what);
      }
    }
    const yaml = await f.cli(['status', '-o', 'yaml']);
    assert.match(yaml.stdout, /^apiVersion: pve-k3s\.io\/v1\nkind: ClusterStatus\n/);
    const check = await f.cli(['status', '--check', '-o', 'json']);
    assert.equal(check.code, 2);
    assert.match(check.stderr, /^error: status --check prints one Nagios-style line: -o json does not apply to it\n/);
  } finally {
    f.cleanup();
  }
});
