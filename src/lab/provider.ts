/**
 * The lab as a shell provider: the core reaches the lab's hosts, its channel server and its clock
 * through `shell/provider.ts` under the name `lab`, and never imports the lab. Registered by the
 * lab's entry point (`pve-k3s/lab`) and lazily by the CLI.
 */
import { InventoryError } from '../domain/errors.js';
import { registerShellProvider, type ProviderSession, type ShellProvider } from '../shell/provider.js';

export const LAB_PROVIDER = 'lab';

export const labShellProvider: ShellProvider = {
  name: LAB_PROVIDER,
  async open(ctx): Promise<ProviderSession> {
    const dir = ctx.settings?.['dir'];
    if (typeof dir !== 'string')
      throw new InventoryError('the inventory uses the lab but has no `lab:` section', {
        ...(ctx.file !== undefined ? { file: ctx.file } : {}),
        field: 'lab',
        hint: 'run `pve-k3s lab init` to create a lab and its inventory',
      });
    const { openLab } = await import('./lab.js');
    const lab = await openLab(dir);
    return {
      shell: (host) => lab.shell(host),
      hosts: () => lab.hosts(),
      startChannelServer: () => lab.startChannelServer(),
      clock: lab.clock,
      // The inventory file's spelling of the lab: `lab: { dir }`, `channelUrl: lab`.
      inventorySettings: () => ({
        settings: { dir: lab.dir },
        k3s: { channelUrl: LAB_PROVIDER, installScriptUrl: lab.state.installScriptUrl },
      }),
      close: async () => {},
    };
  },
};

/** Makes `lab` hosts of inventories reachable (what importing `pve-k3s/lab` does). */
export function registerLabProvider(): void {
  registerShellProvider(labShellProvider);
}
