// `pve-k3s import ansible FILE --discover DEST` as a user runs it beside the lab (the example of
// docs/inventory.md): output, exit status, the file written, and the refusal that writes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliInProcess, labFixture } from '../helpers/lab-cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { parseInventory } from '../../src/inventory/index.js';

cliInProcess();

const doc = readFileSync(join(repoRoot(), 'docs', 'inventory.md'), 'utf8');
const section = doc.slice(doc.indexOf('### Hosts listed by address: `--discover`'));
const blocks = [...section.matchAll(/```(?:yaml)?\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
/** docs/inventory.md's k3s-ansible example, its command and output, and the file it writes. */
const INVENTORY = blocks[0]!;
const [COMMAND, ...OUTPUT] = blocks[1]!.split('\n');
const WRITTEN = blocks[2]!;

test(
  'GIVEN a k3s-ansible inventory by IP WHEN imported with --discover on the lab THEN each host is matched by its net0 address and the file works',
  { timeout: 300_000 },
  async () => {
    const f = await labFixture();
    try {
      writeFileSync(join(f.dir, 'inventory.yml'), INVENTORY);
      assert.equal(COMMAND, '$ pve-k3s import ansible inventory.yml --discover lab:pve1 --discover lab:pve2 --out imported.yaml');
      const r = await f.cli(COMMAND!.split(' ').slice(2));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout.replaceAll(f.dir, '/home/ops'), OUTPUT.join('\n'));
      const written = readFileSync(join(f.dir, 'imported.yaml'), 'utf8');
      assert.equal(
        written.replace(/^cluster: .*$/m, 'cluster: ops').replace(/^  dir: .*$/m, '  dir: /home/ops/.local/state/pve-k3s/lab/lab'),
        WRITTEN,
      );
      const inv = parseInventory(written, 'imported.yaml', { home: '/home/u' });
      assert.deepEqual(
        inv.nodes.map((n) => `${n.name} ${n.vmid} ${n.host} ${n.role}`),
        ['k3s-ctrl-1 100 pve1 server', 'k3s-worker-1 101 pve1 agent', 'k3s-worker-2 102 pve2 agent', 'k3s-worker-3 103 pve2 agent'],
      );
      const status = await f.cli(['-c', 'imported.yaml', 'status', '-o', 'json']);
      assert.equal(status.code, 0, status.stderr);

      // one host nobody has: the list, exit 2, nothing written
      writeFileSync(join(f.dir, 'bad.yml'), INVENTORY.replace('10.0.20.23:', '10.0.20.99:'));
      const bad = await f.cli(['import', 'ansible', 'bad.yml', '--discover', 'lab:pve1', '--discover', 'lab:pve2', '--out', 'bad.yaml']);
      assert.equal(bad.code, 2);
      assert.equal(bad.stdout, '');
      assert.match(
        bad.stderr,
        /^error: bad\.yml: 1 host with no vmid matched no single container on lab:pve1, lab:pve2; nothing written$/m,
      );
      assert.match(
        bad.stderr,
        /^- bad\.yml:11: host 10\.0\.20\.99: no container on lab:pve1, lab:pve2 has the address or hostname 10\.0\.20\.99; add --discover for the Proxmox host that holds it, or set vmid=<id> and pve_host=<proxmox node> on it$/m,
      );
      assert.equal(existsSync(join(f.dir, 'bad.yaml')), false);

      // -o json: the matches as data
      const json = await f.cli(['import', 'ansible', 'inventory.yml', '--discover', 'lab:pve1', '--discover', 'lab:pve2', '-o', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const doc = JSON.parse(json.stdout) as { matched: { ansibleHost: string; vmid: number; by: string }[] };
      assert.deepEqual(
        doc.matched.map((m) => `${m.ansibleHost} ${m.vmid}`),
        ['10.0.20.20 100', '10.0.20.21 101', '10.0.20.22 102', '10.0.20.23 103'],
      );

      const lone = await f.cli(['import', 'ansible', 'inventory.yml', '--lab-dir', 'lab']);
      assert.equal(lone.code, 2);
      assert.match(lone.stderr, /--lab-dir is only used with --discover/);
    } finally {
      f.cleanup();
    }
  },
);
