/** status --check exit codes, the health summary, and metrics parsed by a strict Prometheus text-format parser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cliInProcess, labFixture, type LabFixture } from '../helpers/lab-cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { labBreak } from '../../src/lab/index.js';

cliInProcess();

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Text format 0.0.4: HELP/TYPE before samples, one TYPE per family, valid names, escaped label values, float values. */
function parseExposition(text: string): { families: Map<string, { type: string; help: string }>; samples: Sample[] } {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const families = new Map<string, { type: string; help: string }>();
  const samples: Sample[] = [];
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      assert.match(name, NAME);
      const f = families.get(name) ?? { type: '', help: '' };
      if (kind === 'TYPE') {
        assert.equal(f.type, '', `second TYPE for ${name}`);
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), rest);
        assert.ok(!samples.some((s) => s.name === name), `TYPE after samples of ${name}`);
        f.type = rest;
      } else f.help = rest;
      families.set(name, f);
      continue;
    }
    assert.ok(!line.startsWith('#') && line.trim() !== '', `unexpected line ${JSON.stringify(line)}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `bad sample line ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    let rest = m[3] ?? '';
    while (rest.length) {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      assert.ok(l, `bad labels in ${JSON.stringify(line)}`);
      assert.ok(!(l[1]! in labels), 'duplicate label');
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(l[0].length);
    }
    const v = m[4]!;
    assert.ok(/^(NaN|[+-]Inf|[+-]?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(v), `bad value ${v}`);
    assert.ok(families.get(m[1]!)?.type, `sample before TYPE: ${m[1]}`);
    samples.push({ name: m[1]!, labels, value: Number(v) });
  }
  return { families, samples };
}

test('GIVEN a healthy lab without a backup WHEN status --check runs THEN WARNING and exit 1; after a backup OK and exit 0; a NotReady node CRITICAL and exit 2', async () => {
  await withLab({}, async (f) => {
    const w = await f.cli(['status', '--check']);
    assert.equal(w.stdout, 'K3S WARNING - lab: no backup | nodes=4 ready=4\n');
    assert.equal(w.code, 1);
    assert.equal((await f.cli(['backup', '--offline'])).code, 0);
    const o = await f.cli(['status', '--check']);
    assert.match(o.stdout, /^K3S OK - lab: 4\/4 nodes Ready, last backup \d+s ago \| nodes=4 ready=4 backup_age=\d+s\n$/);
    assert.equal(o.code, 0);
    f.lab.update((s) => {
      s.clusters.lab!.nodes['k3s-worker-2']!.neverReady = true;
    });
    await f.lab.shell('pve2').run(['pct', 'exec', '102', '--', 'systemctl', 'restart', 'k3s-agent']);
    const c = await f.cli(['status', '--check']);
    assert.match(c.stdout, /^K3S CRITICAL - lab: k3s-worker-2 NotReady \| nodes=4 ready=3 backup_age=\d+s\n$/);
    assert.equal(c.code, 2);
    const table = await f.cli(['status']);
    assert.match(table.stdout, /\nhealth: CRITICAL \(3\/4 Ready; last backup: .*\)\n  critical: k3s-worker-2 NotReady\n$/);
  });
});

test('GIVEN a cordoned node WHEN status -o json and --watch run THEN the health lists it; --watch refreshes the given number of times', async () => {
  await withLab({}, async (f) => {
    await f.lab.shell('pve1').run(['pct', 'exec', '100', '--', '/usr/local/bin/kubectl', 'cordon', 'k3s-worker-1']);
    const j = JSON.parse((await f.cli(['status', '-o', 'json'])).stdout);
    assert.equal(j.health.status, 'warning');
    assert.deepEqual(j.health.problems, [
      { severity: 'warning', text: 'k3s-worker-1 cordoned' },
      { severity: 'warning', text: 'no backup' },
    ]);
    const w = await f.cli(['status', '--watch', '0.05', '--iterations', '2']);
    assert.equal(w.stdout.match(/^health: WARNING/gm)?.length, 2);
  });
});

test('GIVEN the lab WHEN metrics runs THEN its output is valid Prometheus text exposition with node, backup and upgrade series', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => labBreak(s, { node: 'k3s-worker-3', what: 'low-disk' }));
    const r = await f.cli(['metrics']);
    assert.equal(r.code, 0, r.stderr);
    const { families, samples } = parseExposition(r.stdout);
    assert.ok(families.size >= 9);
    const get = (n: string, node?: string) => samples.filter((s) => s.name === n && (node === undefined || s.labels.node === node));
    assert.equal(get('pve_k3s_node_up').length, 4);
    assert.equal(get('pve_k3s_node_ready', 'k3s-worker-1')[0]?.value, 1);
    assert.equal(get('pve_k3s_node_info', 'k3s-ctrl-1')[0]?.labels.installed, 'v1.33.3+k3s1');
    assert.equal(get('pve_k3s_upgrade_pending')[0]?.value, 1);
    assert.equal(get('pve_k3s_upgrade_pending')[0]?.labels.target, 'v1.33.5+k3s1');
    assert.equal(get('pve_k3s_last_backup_timestamp_seconds')[0]?.value, 0);
  });
});

test('GIVEN metrics --listen 127.0.0.1:0 WHEN scraped THEN /metrics answers the exposition with its content type; SIGTERM stops it with 0', async () => {
  await withLab({}, async (f) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'src', 'cli', 'bin.js'), 'metrics', '--listen', '127.0.0.1:0'], {
      cwd: f.dir,
      env: f.env,
    });
    let err = '';
    const url = await new Promise<string>((res, rej) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /serving metrics on (http:\/\/\S+)/.exec(err);
        if (m) res(m[1]!);
      });
      child.on('exit', () => rej(new Error(err)));
    });
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    parseExposition(await r.text());
    assert.equal((await fetch(url.replace('/metrics', '/nope'))).status, 404);
    const code = await new Promise<number | null>((res) => {
      child.on('exit', res);
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
  });
});
