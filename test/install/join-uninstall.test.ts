/** join, uninstall, kubeconfig, air gap and `lab init --bare` on the lab. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cliInProcess, labFixture, runCli, type LabFixture } from '../helpers/lab-cli.js';
import { binaryContent, INSTALL_SCRIPT, LAB_TEMPLATE, putHostFile, TEMPLATE_DIR } from '../../src/lab/index.js';
import { unmanagedPod } from '../helpers/pods.js';

cliInProcess();

async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>) {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

test('GIVEN a running cluster and a new worker in the inventory WHEN join runs THEN its container is created and it joins Ready; join again says nothing to do', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => putHostFile(s, 'pve2', { path: `${TEMPLATE_DIR}/${LAB_TEMPLATE}`, content: 'template\n' }));
    appendFileSync(f.inventory, `container:\n  template: local:vztmpl/${LAB_TEMPLATE}\n`);
    const text = readFileSync(f.inventory, 'utf8').replace(
      /^k3s:/m,
      '  k3s-worker-4: { vmid: 120, host: pve2, role: agent, container: { network: "name=eth0,bridge=vmbr0,ip=10.0.20.40/24,gw=10.0.20.1", memory: 2048 } }\nk3s:',
    );
    writeFileSync(f.inventory, text);
    const r = await f.cli(['join', 'k3s-worker-4', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Install plan for cluster lab: k3s v1\.33\.3\+k3s1 \(the cluster \(k3s-ctrl-1\)\)\n {2}Proxmox host\(s\) pve2: kernel modules overlay and br_netfilter loaded\n {2}k3s-worker-4 \(agent, CT 120 on pve2\)\n/,
    );
    assert.match(
      r.stdout,
      /\nJoined k3s-worker-4 to lab: 1 container\(s\) created, 0 reconfigured, k3s v1\.33\.3\+k3s1 installed on 1 node\(s\)/,
    );
    const node = f.lab.summary().find((n) => n.name === 'k3s-worker-4');
    assert.deepEqual(node && [node.host, node.vmid, node.ready, node.kubelet, node.role], ['pve2', 120, true, 'v1.33.3+k3s1', 'agent']);
    const again = await f.cli(['join', 'k3s-worker-4', '--yes']);
    assert.equal(again.code, 0);
    assert.ok(
      again.stdout.endsWith('\nNothing to do: k3s-worker-4 is configured for k3s and already runs k3s v1.33.3+k3s1.\n'),
      again.stdout,
    );
    const unknown = await f.cli(['join', 'k3s-worker-9', '--yes']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error: k3s-worker-9 is not a node of .*pve-k3s\.yaml\n {2}add it under nodes: /);
  });
});

test('GIVEN a worker WHEN uninstall runs THEN it is drained, deleted from the cluster and its k3s removed; the only server is refused', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['uninstall', 'k3s-worker-2', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Uninstall k3s from k3s-worker-2 (agent, CT 102 on pve2):',
        '  1. drain it: kubectl drain k3s-worker-2 --ignore-daemonsets --delete-emptydir-data --disable-eviction --timeout=300s (from k3s-ctrl-1)',
        '  2. delete node k3s-worker-2 from the cluster',
        '  3. run /usr/local/bin/k3s-agent-uninstall.sh in CT 102',
        `The container stays; remove k3s-worker-2 from ${f.inventory} if it leaves for good.`,
        '  k3s-worker-2: draining',
        '  k3s-worker-2: deleting the node from the cluster',
        '  k3s-worker-2: running /usr/local/bin/k3s-agent-uninstall.sh',
        '',
        'Uninstalled k3s from k3s-worker-2. `pve-k3s join k3s-worker-2` installs it again.',
        '',
      ].join('\n'),
    );
    const s = f.lab.state;
    assert.equal(s.clusters['lab']?.nodes['k3s-worker-2'], undefined);
    const ct = s.hosts.flatMap((h) => h.containers).find((c) => c.vmid === 102);
    assert.deepEqual(
      [ct?.status, ct?.k3s.binaryVersion, ct?.fs['/etc/systemd/system/k3s-agent.service']],
      ['running', undefined, undefined],
    );
    assert.equal(
      (await f.cli(['uninstall', 'k3s-worker-2', '--yes'])).stdout,
      'Nothing to do: k3s is not installed on k3s-worker-2 (CT 102 on pve2).\n',
    );
    const only = await f.cli(['uninstall', 'k3s-ctrl-1', '--yes']);
    assert.equal(only.code, 1);
    assert.equal(
      only.stderr,
      'error: k3s-ctrl-1 is the only running server of lab: uninstalling it destroys the cluster and its data\n  back it up first (pve-k3s backup); pass --force to uninstall it anyway\n',
    );
    const rejoin = await f.cli(['join', 'k3s-worker-2', '--yes']);
    assert.equal(rejoin.code, 0, rejoin.stderr);
    assert.equal(f.lab.summary().find((n) => n.name === 'k3s-worker-2')?.ready, true);
  });
});

test('GIVEN a cluster WHEN kubeconfig runs THEN it merges a context named after the cluster, server rewritten, other contexts kept, 0600; --out writes a file', async () => {
  await withLab({}, async (f) => {
    const home = join(f.dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(
      join(home, '.kube', 'config'),
      'apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: { server: "https://other:6443" }\ncontexts:\n- name: other\n  context: { cluster: other, user: other }\nusers:\n- name: other\n  user: { token: abc }\ncurrent-context: other\n',
    );
    const env: NodeJS.ProcessEnv = { ...f.env, HOME: home };
    delete env['KUBECONFIG'];
    const r = await runCli(['kubeconfig'], { cwd: f.dir, env });
    assert.equal(r.code, 0, r.stderr);
    const file = join(home, '.kube', 'config');
    assert.equal(
      r.stdout,
      `Merged the kubeconfig of lab into ${file} as context lab (server https://10.0.20.20:6443); it is now the current context.\nTry: kubectl --context lab get nodes\n`,
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const doc = parse(readFileSync(file, 'utf8'));
    assert.deepEqual(
      doc.contexts.map((c: { name: string }) => c.name),
      ['other', 'lab'],
    );
    assert.equal(doc['current-context'], 'lab');
    assert.equal(doc.clusters[1].cluster.server, 'https://10.0.20.20:6443');
    assert.ok(doc.clusters[1].cluster['certificate-authority-data']);
    assert.deepEqual(doc.contexts[1].context, { cluster: 'lab', user: 'lab' });
    assert.ok(doc.users[1].user['client-key-data']);
    // Again: replaced, not duplicated.
    await runCli(['kubeconfig'], { cwd: f.dir, env });
    assert.deepEqual(
      parse(readFileSync(file, 'utf8')).clusters.map((c: { name: string }) => c.name),
      ['other', 'lab'],
    );
    const out = join(f.dir, 'lab.kubeconfig');
    const w = await runCli(['kubeconfig', '--out', out, '--context', 'home-lab'], { cwd: f.dir, env });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.equal(parse(readFileSync(out, 'utf8'))['current-context'], 'home-lab');
  });
});

test('GIVEN an air-gap bundle on the hosts WHEN install --airgap runs THEN the files are pushed, checked and the installer skips the download', async () => {
  await withLab({ bare: true, servers: 1, workers: 1, hosts: 1 }, async (f) => {
    const dir = '/var/lib/vz/k3s-airgap';
    f.lab.update((s) => {
      putHostFile(s, 'pve1', { path: `${dir}/k3s`, content: binaryContent('v1.33.5+k3s1'), mode: 0o755 });
      putHostFile(s, 'pve1', { path: `${dir}/k3s-airgap-images-amd64.tar.zst`, content: 'images\n' });
      putHostFile(s, 'pve1', { path: `${dir}/install.sh`, content: INSTALL_SCRIPT, mode: 0o755 });
    });
    const noVersion = await f.cli(['install', '--yes', '--airgap', dir]);
    assert.equal(noVersion.code, 2);
    assert.match(noVersion.stderr, /^error: --airgap needs the version of the bundle: pass --k3s-version/);
    // Nothing may come from the network: the install script URL fails.
    f.lab.addFault({
      match: { level: 'container', argvPrefix: ['curl', '-sfL', 'https://get.k3s.io'] },
      effect: { exitCode: 6, stderr: 'curl: (6) Could not resolve host: get.k3s.io\n' },
      times: 99,
    });
    const r = await f.cli(['install', '--yes', '--airgap', dir, '--version', 'v1.33.5+k3s1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Install plan for cluster lab: k3s v1\.33\.5\+k3s1 \(pinned\), air gap from \/var\/lib\/vz\/k3s-airgap\n/);
    assert.match(
      r.stdout,
      / {2}k3s-ctrl-1: pushing the air-gap bundle from \/var\/lib\/vz\/k3s-airgap \(k3s, k3s-airgap-images-amd64\.tar\.zst, install\.sh\)\n/,
    );
    const ct = f.lab.state.hosts[0]?.containers.find((c) => c.vmid === 101);
    assert.ok(ct?.fs['/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst']);
    assert.equal(f.lab.summary().filter((n) => n.ready).length, 2);
  });
});

test('GIVEN pct push that exits 0 without writing WHEN install --airgap runs THEN the checksum check stops it', async () => {
  await withLab({ bare: true, servers: 1, workers: 0, hosts: 1 }, async (f) => {
    const dir = '/var/lib/vz/k3s-airgap';
    f.lab.update((s) => {
      putHostFile(s, 'pve1', { path: `${dir}/k3s`, content: binaryContent('v1.33.5+k3s1'), mode: 0o755 });
      putHostFile(s, 'pve1', { path: `${dir}/k3s-airgap-images-amd64.tar`, content: 'images\n' });
      putHostFile(s, 'pve1', { path: `${dir}/install.sh`, content: INSTALL_SCRIPT, mode: 0o755 });
    });
    f.lab.addFault({
      match: { level: 'host', argvPrefix: ['pct', 'push', '100', `${dir}/k3s-airgap-images-amd64.tar`] },
      effect: { exitCode: 0 },
    });
    const r = await f.cli(['install', '--yes', '--airgap', dir, '--version', 'v1.33.5+k3s1']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: k3s-ctrl-1: the air-gap files did not arrive intact (pct push): /var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar\n  pct push needs a running container and an existing target directory; check free space in CT 100, then run install again\n',
    );
  });
});

test('GIVEN lab init --bare WHEN run THEN the containers exist without k3s, the last is missing, and the inventory lists every node with container settings', async () => {
  await withLab({}, async (f) => {
    const r = await f.cli(['lab', 'init', '--bare', '--dir', join(f.dir, 'bare'), '--inventory', join(f.dir, 'bare.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `Created a bare lab in ${join(f.dir, 'bare')}: 2 simulated Proxmox host(s) with the containers of 1 server(s) and 3 worker(s), without k3s; the last one does not exist yet\nWrote its inventory to ${join(f.dir, 'bare.yaml')}\nNext: pve-k3s install\n`,
    );
    const inv = readFileSync(join(f.dir, 'bare.yaml'), 'utf8');
    assert.match(
      inv,
      /^ {2}k3s-worker-3: \{ vmid: 103, host: pve2, role: agent, container: \{ network: "name=eth0,bridge=vmbr0,ip=10\.0\.20\.23\/24,gw=10\.0\.20\.1" \} \}$/m,
    );
    assert.match(inv, /^ {2}template: local:vztmpl\/debian-12-standard_12\.7-1_amd64\.tar\.zst$/m);
    const st = await f.cli(['-c', join(f.dir, 'bare.yaml'), 'lab', 'status', '-o', 'json']);
    const nodes = JSON.parse(st.stdout).nodes as Array<{ vmid: number; version: string | null }>;
    assert.deepEqual(
      nodes.map((n) => [n.vmid, n.version ?? null]),
      [
        [100, null],
        [101, null],
        [110, null],
        [102, null],
      ],
    );
  });
});

test('GIVEN a pod that blocks the drain WHEN uninstall runs THEN its drain step fails in the journal, status names the uninstall, and abandon names the node it left cordoned', async () => {
  await withLab({}, async (f) => {
    f.lab.update((s) => {
      s.clusters['lab']!.pods.push(unmanagedPod({ node: 'k3s-worker-2' }));
    });
    const r = await f.cli(['uninstall', 'k3s-worker-2', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: draining k3s-worker-2 failed: .*cannot delete Pods that declare no controller/m);
    const st = await f.cli(['status']);
    assert.match(st.stdout, /^last uninstall failed: step 1\/k3s-worker-2\/drain \(k3s-worker-2 drain\) failed, by /m);
    assert.match(st.stdout, /^ {2}warning: last uninstall failed \(run it again, or close it with pve-k3s abandon\)$/m);
    const a = await f.cli(['abandon']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(
      a.stdout,
      /^Left cordoned by the uninstall: k3s-worker-2\. To uncordon by hand:\n {4}pct exec 100 -- \/usr\/local\/bin\/kubectl uncordon k3s-worker-2 {3}\(on lab host pve1\)$/m,
    );
    assert.equal(f.lab.state.clusters['lab']?.nodes['k3s-worker-2']?.unschedulable, true);
  });
});
