/**
 * systemd on a lab Proxmox host, as far as timers go: `systemctl daemon-reload`,
 * `enable [--now]` / `disable [--now]` / `start` / `stop` of units in /etc/systemd/system,
 * `is-enabled`, `is-active`, and `show [--timestamp=unix] -p A,B UNIT...`. Unit files are the
 * host's own files (written by whoever installs them); enabling links a unit into the
 * `WantedBy=` target's `.wants/` directory like systemctl does; whether a unit runs is kept
 * under /run/systemd (lost at the host's reboot, like systemd's runtime state). A timer's next
 * elapse is computed from its OnCalendar= the way systemd does (UTC). Services are not executed:
 * a timer that elapses in the lab records nothing.
 */
import { parseCalendar, nextElapse, CalendarError } from '../systemd/calendar.js';
import { parseUnitFile } from '../systemd/unit.js';
import { hostMachine, machineRead, type Machine } from './machine.js';
import { fail, ok, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import { dirname, mkdirp } from './vfs.js';

export const UNIT_DIR = '/etc/systemd/system';
const RUNTIME = '/run/systemd/pve-k3s-lab/active';

const unitFile = (u: string) => `${UNIT_DIR}/${u}`;
const withSuffix = (u: string) => (/\.(service|timer|target|socket|path|mount)$/.test(u) ? u : `${u}.service`);

function readUnit(m: Machine, u: string): string | undefined {
  const r = machineRead(m, unitFile(u));
  return 'content' in r ? r.content : undefined;
}

function wantedBy(text: string): string[] {
  return parseUnitFile(text).get('Install')?.get('WantedBy') ?? [];
}

function activeSince(m: Machine, u: string): number | undefined {
  const e = m.fs()[`${RUNTIME}/${u}`];
  return e && !e.dir ? Number(e.content) : undefined;
}

function enabled(m: Machine, u: string, text: string): boolean {
  const targets = wantedBy(text);
  return targets.some((t) => m.fs()[`${UNIT_DIR}/${t}.wants/${u}`] !== undefined);
}

/** Why a timer cannot start, as systemd says it; undefined when it can. */
function timerProblem(m: Machine, u: string, text: string): string | undefined {
  const timer = parseUnitFile(text).get('Timer');
  const cal = timer?.get('OnCalendar') ?? [];
  const good = cal.filter((c) => {
    try {
      parseCalendar(c);
      return true;
    } catch (e) {
      if (e instanceof CalendarError) return false;
      throw e;
    }
  });
  if (good.length === 0) return `Unit ${u} has a bad unit file setting.`;
  const target = timer?.get('Unit')?.[0] ?? u.replace(/\.timer$/, '.service');
  if (readUnit(m, target) === undefined) return `Unit ${target} not found.`;
  return undefined;
}

function nextRun(text: string, now: number): number | undefined {
  let best: number | undefined;
  for (const c of parseUnitFile(text).get('Timer')?.get('OnCalendar') ?? []) {
    try {
      const t = nextElapse(parseCalendar(c), now);
      if (t !== undefined && (best === undefined || t < best)) best = t;
    } catch {
      // systemd ignores an unparsable value
    }
  }
  return best;
}

export function runHostSystemctl(ctx: ExecContext, host: string, argv: string[]): ExecResult {
  const m = hostMachine(ctx, host);
  const flags = argv.filter((a) => a.startsWith('-'));
  const words = argv.filter((a) => !a.startsWith('-'));
  if (flags.includes('--user'))
    return fail(
      1,
      'Failed to connect to bus: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR not defined (consider using --machine=<user>@.host --user to connect to bus of other user)\n',
    );
  // `-p A,B` takes a value: pull it out of the words.
  const pi = argv.findIndex((a) => a === '-p' || a === '--property');
  const propsArg = pi >= 0 ? argv[pi + 1] : argv.find((a) => a.startsWith('--property='))?.slice('--property='.length);
  const props = propsArg?.split(',') ?? [];
  const units = words
    .filter((w) => w !== propsArg)
    .slice(1)
    .map(withSuffix);
  const verb = words[0];
  const now = ctx.now();
  const unixTs = flags.includes('--timestamp=unix');
  const stamp = (ms: number | undefined) =>
    ms === undefined ? 'n/a' : unixTs ? `@${Math.floor(ms / 1000)}` : new Date(ms).toUTCString().replace('GMT', 'UTC');
  switch (verb) {
    case 'daemon-reload':
      return ok();
    case 'enable':
    case 'disable': {
      let out = '';
      for (const u of units) {
        const text = readUnit(m, u);
        if (text === undefined) return fail(1, `Failed to ${verb} unit: Unit file ${u} does not exist.\n`);
        const targets = wantedBy(text);
        if (verb === 'enable') {
          if (flags.includes('--now')) {
            const p = u.endsWith('.timer') ? timerProblem(m, u, text) : undefined;
            if (p) return fail(1, `Failed to start ${u}: ${p}\nSee system logs and 'systemctl status ${u}' for details.\n`);
          }
          m.mutate((fs) => {
            for (const t of targets) {
              const link = `${UNIT_DIR}/${t}.wants/${u}`;
              if (fs[link]) continue;
              mkdirp(fs, dirname(link));
              fs[link] = { content: '', mode: 0o777, link: unitFile(u) };
              out += `Created symlink ${link} → ${unitFile(u)}.\n`;
            }
            if (flags.includes('--now')) {
              mkdirp(fs, RUNTIME);
              fs[`${RUNTIME}/${u}`] ??= { content: String(now), mode: 0o644 };
            }
          });
        } else {
          m.mutate((fs) => {
            for (const t of targets) {
              const link = `${UNIT_DIR}/${t}.wants/${u}`;
              if (!fs[link]) continue;
              delete fs[link];
              out += `Removed "${link}".\n`;
            }
            if (flags.includes('--now')) delete fs[`${RUNTIME}/${u}`];
          });
        }
      }
      return { code: 0, stdout: '', stderr: out };
    }
    case 'start':
    case 'stop': {
      for (const u of units) {
        const text = readUnit(m, u);
        if (text === undefined) return fail(5, `Failed to ${verb} ${u}: Unit ${u} not found.\n`);
        if (verb === 'start' && u.endsWith('.timer')) {
          const p = timerProblem(m, u, text);
          if (p) return fail(1, `Failed to start ${u}: ${p}\n`);
        }
        m.mutate((fs) => {
          if (verb === 'stop') delete fs[`${RUNTIME}/${u}`];
          else if (u.endsWith('.timer')) {
            mkdirp(fs, RUNTIME);
            fs[`${RUNTIME}/${u}`] ??= { content: String(now), mode: 0o644 };
          }
        });
      }
      return ok();
    }
    case 'is-active': {
      const states = units.map((u) => (activeSince(m, u) !== undefined ? 'active' : 'inactive'));
      return {
        code: states.every((s) => s === 'active') ? 0 : 3,
        stdout: flags.includes('-q') ? '' : states.map((s) => `${s}\n`).join(''),
        stderr: '',
      };
    }
    case 'is-enabled': {
      const u = units[0] ?? '';
      const text = readUnit(m, u);
      if (text === undefined) return fail(1, `Failed to get unit file state for ${u}: No such file or directory\n`);
      const e = wantedBy(text).length === 0 ? 'static' : enabled(m, u, text) ? 'enabled' : 'disabled';
      return { code: e === 'disabled' ? 1 : 0, stdout: `${e}\n`, stderr: '' };
    }
    case 'show': {
      const blocks = units.map((u) => {
        const text = readUnit(m, u);
        const since = activeSince(m, u);
        const all: Record<string, string> = {
          Id: u,
          LoadState: text === undefined ? 'not-found' : 'loaded',
          ActiveState: since !== undefined ? 'active' : 'inactive',
          SubState: since !== undefined ? (u.endsWith('.timer') ? 'waiting' : 'running') : 'dead',
          UnitFileState: text === undefined ? '' : wantedBy(text).length === 0 ? 'static' : enabled(m, u, text) ? 'enabled' : 'disabled',
          FragmentPath: text === undefined ? '' : unitFile(u),
        };
        if (u.endsWith('.timer')) {
          all['NextElapseUSecRealtime'] = stamp(since !== undefined && text !== undefined ? nextRun(text, now) : undefined);
          all['LastTriggerUSec'] = stamp(undefined);
          all['Result'] = 'success';
        } else if (u.endsWith('.service')) {
          all['Result'] = 'success';
          all['ExecMainStatus'] = '0';
          all['ExecMainExitTimestamp'] = stamp(undefined);
        }
        const keys = props.length ? props : Object.keys(all);
        return keys
          .filter((k) => k in all)
          .map((k) => `${k}=${all[k]}\n`)
          .join('');
      });
      return ok(blocks.join('\n'));
    }
    default:
      return fail(1, `systemctl: the lab does not model "systemctl ${argv.join(' ')}"\n`);
  }
}
