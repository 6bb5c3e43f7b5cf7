/**
 * Expected failures, each run as a user would on the lab: the message says what happened and
 * what to do, the exit status is 1 or 2, and none of them is reported as "a bug in pve-k3s".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliInProcess, labFixture, type CliResult, type LabFixture } from '../helpers/lab-cli.js';

cliInProcess();

const BUG = /this is a bug in pve-k3s/;

interface Case {
  name: string;
  setup?: (f: LabFixture) => void;
  /** Checked after the run, with what `setup` returned. */
  args: (f: LabFixture) => string[];
  env?: (f: LabFixture) => NodeJS.ProcessEnv;
  code: number;
  stderr: (f: LabFixture) => string | RegExp;
  after?: (f: LabFixture, r: CliResult) => void;
}

const started = new WeakMap<LabFixture, number | undefined>();
function k3sStartedAt(f: LabFixture): number | undefined {
  return f.lab.state.hosts.flatMap((h) => h.containers).find((c) => c.vmid === 100)?.k3s.services['k3s']?.startedAt;
}

const REFUSED = 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?';

const CASES: Case[] = [
  {
    name: 'kubectl refusing the connection when the cluster lock is read',
    setup: (f) =>
      f.lab.addFault({
        match: { level: 'container', contains: 'kubectl get node k3s-ctrl-1 -o json' },
        effect: { exitCode: 1, stderr: `${REFUSED}\n` },
      }),
    args: () => ['upgrade', '--yes'],
    code: 1,
    stderr: () =>
      `error: kubectl get node k3s-ctrl-1 on k3s-ctrl-1: ${REFUSED}\n` +
      '  the Kubernetes API on k3s-ctrl-1 refuses connections: k3s is stopped or restarting there (pct exec 100 -- systemctl status k3s, on pve1); check it with pve-k3s status, or set `controller:` to another server\n',
  },
  {
    name: 'kubeconfig --out naming a directory',
    setup: (f) => mkdirSync(join(f.dir, 'kube')),
    args: () => ['kubeconfig', '--out', 'kube'],
    code: 2,
    stderr: (f) =>
      `error: cannot write the kubeconfig to ${join(f.dir, 'kube')}: it is a directory\n  name a file: --out ${join(f.dir, 'kube', 'config')}\n`,
    after: (f) =>
      assert.deepEqual(
        readdirSync(f.dir).filter((n) => n.includes('.tmp')),
        [],
        'no temporary file left',
      ),
  },
  {
    name: 'kubeconfig --out under a file (ENOTDIR)',
    setup: (f) => writeFileSync(join(f.dir, 'plain'), ''),
    args: () => ['kubeconfig', '--out', 'plain/x/config'],
    code: 1,
    stderr: (f) =>
      `error: cannot write the kubeconfig to ${join(f.dir, 'plain', 'x', 'config')}: ${join(f.dir, 'plain')} is a file, not a directory\n` +
      `  move ${join(f.dir, 'plain')} away, or choose another place\n`,
  },
  {
    name: 'kubeconfig --out whose directory is a file (EEXIST)',
    setup: (f) => writeFileSync(join(f.dir, 'plain'), ''),
    args: () => ['kubeconfig', '--out', 'plain/config'],
    code: 1,
    stderr: (f) =>
      `error: cannot write the kubeconfig to ${join(f.dir, 'plain', 'config')}: ${join(f.dir, 'plain')} is a file, not a directory\n` +
      `  move ${join(f.dir, 'plain')} away, or choose another place\n`,
  },
  {
    name: '$KUBECONFIG naming a directory',
    setup: (f) => mkdirSync(join(f.dir, 'kubedir')),
    args: () => ['kubeconfig'],
    env: (f) => ({ ...f.env, KUBECONFIG: join(f.dir, 'kubedir') }),
    code: 1,
    stderr: (f) =>
      `error: cannot read the kubeconfig ${join(f.dir, 'kubedir')}: it is a directory (EISDIR)\n` +
      `  ${join(f.dir, 'kubedir')} comes from $KUBECONFIG or ~/.kube/config: fix it, or write a separate file with --out FILE\n`,
  },
  {
    name: 'metrics --listen with a name that does not resolve',
    args: () => ['metrics', '--listen', 'no-such-host.invalid:9480'],
    code: 2,
    stderr: () =>
      /^error: --listen no-such-host\.invalid:9480: cannot resolve "no-such-host\.invalid" to an address \((ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL)\)\n  give an address of this machine \(e\.g\. 127\.0\.0\.1:9480\), a name it resolves, or :PORT for every interface\n$/,
  },
  {
    name: 'metrics --listen on an address of another machine',
    args: () => ['metrics', '--listen', '192.0.2.1:9480'],
    code: 2,
    stderr: () =>
      'error: --listen 192.0.2.1:9480: 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL)\n' +
      '  give one of its own addresses (ip -br addr), 127.0.0.1, or :PORT for every interface\n',
  },
  {
    name: 'a state directory under a file (backup --offline)',
    setup: (f) => {
      writeFileSync(join(f.dir, 'state-file'), '');
      started.set(f, k3sStartedAt(f));
    },
    args: () => ['backup', '--offline'],
    env: (f) => ({ ...f.env, XDG_STATE_HOME: join(f.dir, 'state-file') }),
    code: 1,
    stderr: (f) =>
      new RegExp(
        // backup --offline is a guarded operation: the journal is checked writable before anything else.
        `^error: cannot write the journal ${esc(join(f.dir, 'state-file', 'pve-k3s', 'journal', 'lab.jsonl'))}: ${esc(join(f.dir, 'state-file'))} is a file, not a directory \\(ENOTDIR\\)\n` +
          `  move ${esc(join(f.dir, 'state-file'))} away, or set XDG_STATE_HOME to a writable directory; pve-k3s records every step there before it changes the cluster, and nothing was changed\n$`,
      ),
    // Nothing ran in the container: k3s was not stopped (and started again) for a copy that could not be kept.
    after: (f) => assert.equal(k3sStartedAt(f), started.get(f)),
  },
];

for (const c of CASES) {
  test(`GIVEN ${c.name} WHEN the command runs THEN it says what happened, exit ${c.code}, never "a bug"`, async () => {
    const f = await labFixture({ workers: 1 });
    try {
      c.setup?.(f);
      const r = await (c.env ? runWithEnv(f, c.args(f), c.env(f)) : f.cli(c.args(f)));
      assert.doesNotMatch(r.stderr, BUG);
      const want = c.stderr(f);
      if (typeof want === 'string') assert.equal(r.stderr.slice(r.stderr.indexOf('error: ')), want);
      else assert.match(r.stderr, want);
      assert.equal(r.code, c.code, r.stderr);
      c.after?.(f, r);
    } finally {
      f.cleanup();
    }
  });
}

async function runWithEnv(f: LabFixture, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const { runCli } = await import('../helpers/lab-cli.js');
  return runCli(args, { cwd: f.dir, env });
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
