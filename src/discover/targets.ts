/**
 * The hosts `discover --host` names: an SSH destination (`root@pve1`, an alias), `local` (pve-k3s
 * runs on the Proxmox host), or `<provider>:<host>` (a host of a registered shell provider, e.g.
 * `lab:pve1` for the embedded lab).
 */
import { UsageError } from '../domain/errors.js';
import type { HostAccess } from '../inventory/types.js';
import { hasShellProvider, shellProvider, type ProviderSession, type ProviderSettings } from '../shell/provider.js';
import type { DiscoverTarget } from './discover.js';

export function parseHostArg(value: string): { access: HostAccess; providerHost?: string } {
  if (value === 'local') return { access: { kind: 'local' } };
  const m = /^([a-z][a-z0-9-]*):(.*)$/.exec(value);
  if (m && hasShellProvider(m[1]!)) {
    const [, provider, host] = m as unknown as [string, string, string];
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host))
      throw new UsageError(`--host ${value}: a ${provider} host is ${provider}:<name>, e.g. ${provider}:pve1`);
    return { access: { kind: 'provider', provider }, providerHost: host };
  }
  if (value === '' || value.startsWith('-') || /\s/.test(value)) {
    throw new UsageError(`--host ${JSON.stringify(value)}: not an ssh destination`, {
      hint: 'give root@<host>, an alias from ~/.ssh/config, `local`, or lab:<host>',
    });
  }
  return { access: { kind: 'ssh', destination: value } };
}

/** What a new inventory needs for the hosts of one provider (its section, the k3s sources). */
export interface ProviderInventory {
  name: string;
  settings: ProviderSettings;
  k3s: Readonly<Record<string, string>> | undefined;
}

export interface OpenedTargets {
  targets: DiscoverTarget[];
  /** One per shell provider whose hosts were named. */
  providers: ProviderInventory[];
  close(): Promise<void>;
}

export async function openTargets(
  values: readonly string[],
  opts: {
    /** A provider's settings (the lab's `{ dir }`), asked for when one of its hosts is named. */
    providerSettings?: (provider: string) => Promise<ProviderSettings | undefined>;
    /** Said when a provider cannot be opened. */
    providerHint?: (provider: string) => string | undefined;
    sshConfig?: string;
  },
): Promise<OpenedTargets> {
  const parsed = values.map(parseHostArg);
  const targets: DiscoverTarget[] = [];
  const sessions = new Map<string, ProviderSession>();
  const providers: ProviderInventory[] = [];
  const closeAll = async () => {
    await Promise.allSettled([...targets.map((t) => t.shell.close()), ...[...sessions.values()].map((s) => s.close())]);
  };
  try {
    for (const [i, p] of parsed.entries()) {
      const value = values[i] ?? '';
      switch (p.access.kind) {
        case 'provider': {
          const name = p.access.provider;
          let s = sessions.get(name);
          if (!s) {
            const provider = (await shellProvider(name))!;
            const settings = await opts.providerSettings?.(name);
            s = await provider.open({ settings, file: undefined }).catch((e: unknown) => {
              const hint = opts.providerHint?.(name);
              throw new UsageError(`--host ${name}:...: ${(e as Error).message}`, hint ? { hint } : {});
            });
            sessions.set(name, s);
            const inv = s.inventorySettings?.();
            providers.push({ name, settings: inv?.settings ?? settings ?? {}, k3s: inv?.k3s });
          }
          const host = p.providerHost ?? '';
          const known = s.hosts?.();
          if (known && !known.includes(host)) {
            const dir = providers.find((x) => x.name === name)?.settings['dir'];
            const where = typeof dir === 'string' ? ` in ${dir}` : '';
            throw new UsageError(`--host ${value}: the ${name}${where} has no host ${host} (hosts: ${known.join(', ')})`);
          }
          targets.push({ shell: s.shell(host), access: p.access, node: host });
          break;
        }
        case 'local': {
          const { LocalShell } = await import('../shell/local-shell.js');
          targets.push({ shell: new LocalShell({ host: 'local' }), access: p.access });
          break;
        }
        case 'ssh': {
          const { SshShell } = await import('../shell/ssh-shell.js');
          const access: HostAccess = opts.sshConfig ? { ...p.access, configFile: opts.sshConfig } : p.access;
          targets.push({
            shell: new SshShell({
              host: p.access.destination,
              destination: p.access.destination,
              ...(opts.sshConfig ? { configFile: opts.sshConfig } : {}),
            }),
            access,
          });
          break;
        }
      }
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  return { targets, providers, close: closeAll };
}
