/** A lab with system-upgrade-controller installed, and what the SUC tests read of it. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { labFixture, type LabFixture } from '../../helpers/lab-cli.js';
import { sucReleaseManifests } from '../../../src/lab/index.js';
import type { LabInitOptions } from '../../../src/lab/index.js';

/** A lab fixture with SUC installed by `pve-k3s suc install --file` (unless `install` is false). */
export async function withSuc(
  opts: Partial<Omit<LabInitOptions, 'dir'>>,
  fn: (f: LabFixture) => Promise<void>,
  install = true,
): Promise<void> {
  const f = await labFixture(opts);
  try {
    if (install) {
      const file = join(f.dir, 'suc.yaml');
      writeFileSync(file, sucReleaseManifests('v0.16.3'));
      const r = await f.cli(['suc', 'install', '--file', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^deployment\.apps\/system-upgrade-controller created$/m);
    }
    await fn(f);
  } finally {
    f.cleanup();
  }
}

/** Installed k3s version per k3s node. */
export const versions = (f: LabFixture) =>
  Object.fromEntries(
    f.lab
      .summary()
      .filter((n) => n.role !== undefined)
      .map((n) => [n.name, n.version]),
  );
export const cluster = (f: LabFixture) => f.lab.state.clusters.lab!;
/** Nodes with our opt-in label or any label of SUC's Plans. */
export const optedIn = (f: LabFixture) =>
  Object.values(cluster(f).nodes)
    .filter((n) => Object.keys(n.labels).some((k) => k === 'pve-k3s.io/upgrade' || k.startsWith('plan.upgrade.cattle.io/')))
    .map((n) => n.name);

export interface JournalLine {
  type: string;
  step?: string;
  node?: string;
  note?: string;
  message?: string;
  status?: string;
}
export const journal = (f: LabFixture): JournalLine[] =>
  readFileSync(join(f.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalLine);

/** A webhook on 127.0.0.1 that records the body of every POST. */
export async function webhook(): Promise<{ url: string; bodies: Record<string, unknown>[]; close(): Promise<void> }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(data) as Record<string, unknown>);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}
