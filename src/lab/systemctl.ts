/**
 * `systemctl is-active|is-enabled|start|restart|stop|enable|disable|status|daemon-reload` in a
 * container, for the k3s units (and enabling a unit file of our own). A (re)start blocks until
 * the unit is up, as for a Type=notify unit; one that never comes up blocks forever
 * (TimeoutStartSec=0), one that fails reports the job failure.
 */
import { LAB_HOOKS } from './hooks.js';
import { JobFailed, waitForStart } from './installer.js';
import { findContainer, serviceStatus, startService, stopService } from './k3s-model.js';
import { containerMachine, machineTest } from './machine.js';
import { fail, ok, type ContainerRef, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { ServiceName } from './types.js';

function unitName(u: string): string {
  return u.replace(/\.service$/, '');
}

export async function runSystemctl(ctx: ExecContext, ref: ContainerRef, args: string[]): Promise<ExecResult> {
  const [verb, ...rest] = args.filter((a) => a !== '--no-pager' && a !== '-q' && a !== '--quiet');
  const quiet = args.includes('-q') || args.includes('--quiet');
  const units = rest.map(unitName);
  const known = (u: string): u is ServiceName => u === 'k3s' || u === 'k3s-agent';
  const now = ctx.now();
  switch (verb) {
    case 'is-active': {
      const s = ctx.store.read();
      const ct = findContainer(s, ref.host, ref.vmid)?.ct;
      const states = units.map((u) => (ct && known(u) ? serviceStatus(s, { ct, svc: ct.k3s.services[u], now }) : 'inactive'));
      return { code: states.every((x) => x === 'active') ? 0 : 3, stdout: quiet ? '' : states.map((x) => `${x}\n`).join(''), stderr: '' };
    }
    case 'is-enabled': {
      const ct = findContainer(ctx.store.read(), ref.host, ref.vmid)?.ct;
      const u = units[0] ?? '';
      const svc = ct && known(u) ? ct.k3s.services[u] : undefined;
      if (!svc) return fail(1, `Failed to get unit file state for ${u}.service: No such file or directory\n`);
      return { code: svc.enabled ? 0 : 1, stdout: svc.enabled ? 'enabled\n' : 'disabled\n', stderr: '' };
    }
    case 'daemon-reload':
      return ok();
    case 'start':
    case 'restart':
    case 'stop':
    case 'enable':
    case 'disable': {
      const u = units[0] ?? '';
      const r = ctx.store.update((s) => {
        const loc = findContainer(s, ref.host, ref.vmid);
        const svc = loc && known(u) ? loc.ct.k3s.services[u] : undefined;
        if (!loc || !svc || !known(u)) return 'missing';
        if (verb === 'enable' || verb === 'disable') {
          svc.enabled = verb === 'enable';
          return 'done';
        }
        if (verb === 'stop') {
          stopService(s, loc.ct, { service: u, hooks: LAB_HOOKS });
          return 'done';
        }
        if (verb === 'start' && svc.running && svc.failure === undefined) return 'done';
        startService(s, loc, { service: u, now, hooks: LAB_HOOKS });
        return 'started';
      });
      if (
        r === 'missing' &&
        (verb === 'enable' || verb === 'disable') &&
        machineTest(containerMachine(ctx, ref), '-f', `/etc/systemd/system/${u}.service`)
      ) {
        // A unit of our own (not k3s): enabling it only links it into multi-user.target.wants.
        return ok(
          verb === 'enable'
            ? `Created symlink /etc/systemd/system/multi-user.target.wants/${u}.service → /etc/systemd/system/${u}.service.\n`
            : '',
        );
      }
      if (r === 'missing')
        return fail(verb === 'enable' || verb === 'disable' ? 1 : 5, `Failed to ${verb} ${u}.service: Unit ${u}.service not found.\n`);
      if (r === 'started') {
        try {
          await waitForStart(ctx, ref, { service: u as ServiceName, startedAt: now });
        } catch (e) {
          if (e instanceof JobFailed) return fail(1, e.message);
          throw e;
        }
      }
      return ok();
    }
    case 'status': {
      const s = ctx.store.read();
      const ct = findContainer(s, ref.host, ref.vmid)?.ct;
      const u = units[0] ?? '';
      const svc = ct && known(u) ? ct.k3s.services[u] : undefined;
      if (!ct || !svc) return fail(4, `Unit ${u}.service could not be found.\n`);
      const st = serviceStatus(s, { ct, svc, now });
      const text = `● ${u}.service - Lightweight Kubernetes\n     Loaded: loaded (/etc/systemd/system/${u}.service; ${svc.enabled ? 'enabled' : 'disabled'}; preset: enabled)\n     Active: ${st}${st === 'active' ? ' (running)' : ''}\n`;
      return { code: st === 'active' ? 0 : 3, stdout: text, stderr: '' };
    }
    default:
      return fail(1, `systemctl: the lab does not model "systemctl ${args.join(' ')}"\n`);
  }
}
