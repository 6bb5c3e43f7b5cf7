/**
 * The uninstall scripts install.sh leaves, `/usr/local/bin/k3s-uninstall.sh` and
 * `k3s-agent-uninstall.sh`: stop k3s, remove the service and its files, and (when no other k3s
 * service remains) the binary, `/var/lib/rancher/k3s` and `/etc/rancher/k3s`.
 */
import { LAB_HOOKS } from './hooks.js';
import { BIN, envPath, unitPath } from './k3s-files.js';
import { findContainer, stopService } from './k3s-model.js';
import { remove } from './vfs.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { ServiceName } from './types.js';

/** `k3s-uninstall.sh` / `k3s-agent-uninstall.sh`: stop, remove the service, its files and (last one) k3s. */
export function runUninstallScript(ctx: ExecContext, ref: ContainerRef, service: ServiceName): ExecResult {
  return ctx.store.update((s): ExecResult => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return fail(1, 'container vanished\n');
    const { ct } = loc;
    const out: string[] = [];
    for (const name of ['k3s', 'k3s-agent'] as const) stopService(s, ct, { service: name, hooks: LAB_HOOKS });
    delete ct.k3s.services[service];
    for (const p of [unitPath(service), envPath(service), `/usr/local/bin/${service}-uninstall.sh`]) {
      if (ct.fs[p]) {
        delete ct.fs[p];
        out.push(`+ rm -f ${p}`);
      }
    }
    const others = Object.keys(ct.k3s.services).length > 0;
    if (!others) {
      for (const p of [BIN, '/usr/local/bin/kubectl', '/usr/local/bin/crictl', '/usr/local/bin/ctr', '/usr/local/bin/k3s-killall.sh'])
        delete ct.fs[p];
      for (const d of ['/var/lib/rancher/k3s', '/etc/rancher/k3s', '/var/lib/kubelet']) if (ct.fs[d]) remove(ct.fs, d, true);
      ct.k3s = { binaryVersion: undefined, services: {}, dataCluster: undefined };
      out.push('+ rm -rf /etc/rancher/k3s /var/lib/rancher/k3s /var/lib/kubelet /usr/local/bin/k3s');
    } else {
      // Another k3s service remains: restart it, as the real script's killall leaves it stopped until then.
      for (const svc of Object.values(ct.k3s.services)) svc.running = false;
    }
    return ok(`${out.join('\n')}\n`);
  });
}
