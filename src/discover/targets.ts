/**
 * The hosts `discover --host` names: an SSH destination (`root@pve1`, an alias), `local` (pve-k3s
 * runs on the Proxmox host), or `lab:<host>` (a host of the embedded lab).
 */
import { UsageError } from '../domain/errors.js';
import type { HostAccess } from '../inventory/types.js';
import type { DiscoverTarget } from './discover.js';

export function parseHostArg(value: string): { access: HostAccess; labHost?: string } {
  if (value === 'local') return { access: { kind: 'local' } };
  if (value.startsWith('lab:')) {
    const labHost = value.slice(4);
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(labHost)) throw new UsageError(`--host ${value}: a lab host is lab:<name>, e.g. lab:pve1`);
    return { access: { kind: 'lab' }, labHost };
  }
  if (value === '' || value.startsWith('-') || /\s/.test(value)) {
    throw new UsageError(`--host ${JSON.stringify(value)}: not an ssh destination`, {
      hint: 'give root@<host>, an alias from ~/.ssh/config, `local`, or lab:<host>',
    });
  }
  return { access: { kind: 'ssh', destination: value } };
}

export interface OpenedTargets {
  targets: DiscoverTarget[];
  /** Set when lab hosts were named: what a new inventory needs for them. */
  lab: { dir: string; installScriptUrl: string } | undefined;
  close(): Promise<void>;
}

export async function openTargets(
  values: readonly string[],
  opts: { labDir: () => Promise<string>; sshConfig?: string },
): Promise<OpenedTargets> {
  const parsed = values.map(parseHostArg);
  const targets: DiscoverTarget[] = [];
  let lab: import('../lab/index.js').Lab | undefined;
  if (parsed.some((p) => p.labHost !== undefined)) {
    const { openLab } = await import('../lab/index.js');
    const dir = await opts.labDir();
    lab = await openLab(dir).catch((e: unknown) => {
      throw new UsageError(`--host lab:...: ${(e as Error).message}`, {
        hint: "give the lab with --lab-dir DIR, or run discover beside the lab's inventory",
      });
    });
  }
  for (const [i, p] of parsed.entries()) {
    const value = values[i] ?? '';
    switch (p.access.kind) {
      case 'lab': {
        const name = p.labHost ?? '';
        if (!lab!.hosts().includes(name))
          throw new UsageError(`--host ${value}: the lab in ${lab!.dir} has no host ${name} (hosts: ${lab!.hosts().join(', ')})`);
        targets.push({ shell: lab!.shell(name), access: p.access, node: name });
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
  return {
    targets,
    lab: lab ? { dir: lab.dir, installScriptUrl: lab.state.installScriptUrl } : undefined,
    async close() {
      await Promise.allSettled(targets.map((t) => t.shell.close()));
    },
  };
}
