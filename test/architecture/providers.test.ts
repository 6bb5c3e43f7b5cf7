// Shell providers: the core reaches hosts that are neither ssh nor local only through a provider
// registered by name; the lab is one (registered by its entry point), and an unknown one is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectCluster } from '../../src/operation/connect.js';
import { parseInventory, renderInventory } from '../../src/inventory/index.js';
import { registerShellProvider, hasShellProvider, type ProviderSession } from '../../src/shell/provider.js';
import { InventoryError } from '../../src/domain/errors.js';
import type { Shell } from '../../src/shell/shell.js';
import type { Inventory } from '../../src/inventory/types.js';

const LAB_FILE = `cluster: t
hosts:
  pve1: { lab: true }
nodes:
  k3s-ctrl-1: { vmid: 100, host: pve1, role: server }
k3s:
  channelUrl: lab
lab:
  dir: /srv/lab
`;

test('GIVEN the file spelling of the lab WHEN parsed THEN the types speak of the provider, and rendering gives the file spelling back', () => {
  const inv = parseInventory(LAB_FILE, '/srv/pve-k3s.yaml', { home: '/home/u' });
  assert.deepEqual(inv.hosts, [{ name: 'pve1', access: { kind: 'provider', provider: 'lab' } }]);
  assert.deepEqual(inv.k3s.channelUrl, { provider: 'lab' });
  assert.deepEqual(inv.providers, { lab: { dir: '/srv/lab' } });
  const text = renderInventory(inv);
  assert.match(text, /^ {2}pve1: \{ lab: true \}$/m);
  assert.match(text, /^ {2}channelUrl: lab$/m);
  assert.match(text, /^lab:\n {2}dir: \/srv\/lab$/m);
});

test('GIVEN a provider nobody registered WHEN connecting THEN the error names the host and what to import', async () => {
  const inv: Inventory = {
    ...parseInventory(LAB_FILE, '/srv/pve-k3s.yaml', { home: '/home/u' }),
    hosts: [{ name: 'pve1', access: { kind: 'provider', provider: 'nowhere' } }],
  };
  assert.equal(hasShellProvider('nowhere'), false);
  await assert.rejects(connectCluster(inv), (e: unknown) => {
    assert.ok(e instanceof InventoryError);
    assert.equal(e.message, 'hosts.pve1: no shell provider "nowhere" is registered in this program');
    assert.equal(e.exitCode, 2);
    assert.match(e.hint ?? '', /import 'pve-k3s\/lab'/);
    return true;
  });
});

test('GIVEN a registered provider WHEN connecting THEN its shells, channel server and clock are used, opened once, closed with the connection', async () => {
  const events: string[] = [];
  const fakeShell = (host: string): Shell =>
    ({
      host,
      run: async () => ({ code: 0, stdout: `hello from ${host}\n`, stderr: '' }),
      close: async () => {
        events.push(`close shell ${host}`);
      },
    }) as unknown as Shell;
  const clock = { now: () => 42, sleep: async () => {} };
  registerShellProvider('fake', async () => ({
    name: 'fake',
    async open(ctx): Promise<ProviderSession> {
      events.push(`open ${JSON.stringify(ctx.settings)}`);
      return {
        shell: fakeShell,
        startChannelServer: async () => ({
          url: 'http://127.0.0.1:1/v1-release/channels',
          close: async () => void events.push('close channels'),
        }),
        clock,
        close: async () => void events.push('close session'),
      };
    },
  }));
  const base = parseInventory(LAB_FILE, '/srv/pve-k3s.yaml', { home: '/home/u' });
  const inv: Inventory = {
    ...base,
    hosts: [
      { name: 'pve1', access: { kind: 'provider', provider: 'fake' } },
      { name: 'pve2', access: { kind: 'provider', provider: 'fake' } },
    ],
    k3s: { ...base.k3s, channelUrl: { provider: 'fake' } },
    providers: { fake: { room: 7 } },
  };
  const conn = await connectCluster(inv);
  assert.equal((await conn.shells.get('pve2')!.run(['true'])).stdout, 'hello from pve2\n');
  assert.equal(conn.channelUrl, 'http://127.0.0.1:1/v1-release/channels');
  assert.equal(conn.clock.now(), 42);
  await conn.close();
  assert.deepEqual(events.slice(0, 1), ['open {"room":7}'], 'opened once for both hosts and the channels');
  assert.deepEqual(events.slice(1).sort(), ['close channels', 'close session', 'close shell pve1', 'close shell pve2']);
});

test('GIVEN a provider without channels WHEN the channel source names it THEN the field says so', async () => {
  registerShellProvider({ name: 'nochannels', open: async () => ({ shell: () => ({}) as Shell, close: async () => {} }) });
  const base = parseInventory(LAB_FILE, '/srv/pve-k3s.yaml', { home: '/home/u' });
  const inv: Inventory = {
    ...base,
    hosts: [{ name: 'pve1', access: { kind: 'ssh', destination: 'root@pve1' } }],
    k3s: { ...base.k3s, channelUrl: { provider: 'nochannels' } },
  };
  await assert.rejects(connectCluster(inv), /^InventoryError: k3s\.channelUrl: the shell provider "nochannels" serves no channels$/);
});
