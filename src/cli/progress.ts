/**
 * Progress display. On a TTY: a live task list, one line per node (log-update, loaded lazily).
 * Elsewhere: plain timestamped lines, wait messages throttled. Both render the runner's events,
 * and the switch over event kinds is exhaustive so a new kind cannot be forgotten.
 */
import type { UpgradePlan, Step } from '../domain/plan.js';
import { planSteps } from '../domain/plan.js';
import type { RunEvent } from '../domain/events.js';
import { humanDuration } from '../domain/duration.js';

export interface Progress {
  emit(e: RunEvent): void;
  /** Stops live rendering (leaves the final frame on screen). */
  stop(): void;
}

const STEP_WORD: Record<Step['kind'], string> = {
  drain: 'drain',
  install: 'install',
  restart: 'restart',
  'wait-ready': 'wait Ready',
  uncordon: 'uncordon',
  soak: 'soak',
};

function fmtMs(ms: number): string {
  return ms < 10_000
    ? `${(ms / 1000).toFixed(1)}s`
    : ms < 120_000
      ? `${Math.round(ms / 1000)}s`
      : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

function stamp(d = new Date()): string {
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

/** Plain lines for logs, CI and pipes. */
export function plainProgress(write: (s: string) => void, opts: { waitEveryMs?: number } = {}): Progress {
  const waitEvery = opts.waitEveryMs ?? 5_000;
  const lastWait = new Map<string, number>();
  let total = 0;
  return {
    emit(e) {
      const line = (s: string) => write(`${stamp()} ${s}\n`);
      switch (e.kind) {
        case 'phase-start':
          line(`phase ${e.index + 1}/${e.total}: ${e.phase.minor ? 'minor' : 'patch'} upgrade to ${e.phase.version} (${e.phase.order})`);
          return;
        case 'step-start':
          total = e.total;
          line(
            `[${e.index + 1}/${e.total}] ${e.step.node}: ${STEP_WORD[e.step.kind]}${e.step.kind === 'install' ? ` ${e.step.version}` : ''}`,
          );
          return;
        case 'step-done':
          line(
            `${' '.repeat(String(total).length * 2 + 3)}${e.step.node}: ${STEP_WORD[e.step.kind]} done (${fmtMs(e.ms)})${e.note ? `: ${e.note}` : ''}`,
          );
          return;
        case 'step-failed':
          line(`${e.step.node}: ${STEP_WORD[e.step.kind]} FAILED: ${e.error.message}`);
          return;
        case 'wait': {
          const prev = lastWait.get(e.step.id) ?? 0;
          if (e.elapsedMs - prev < waitEvery) return;
          lastWait.set(e.step.id, e.elapsedMs);
          line(`${e.step.node}: still waiting (${fmtMs(e.elapsedMs)}): ${e.message}`);
          return;
        }
        case 'heartbeat':
          line(`${e.step.node}: ${STEP_WORD[e.step.kind]} still running (${humanDuration(e.elapsedMs)})${e.last ? `: ${e.last}` : ''}`);
          return;
        case 'log':
          line(`${e.level === 'warn' ? 'warning: ' : ''}${e.node ? `${e.node}: ` : ''}${e.message}`);
          return;
        default: {
          const never: never = e;
          return never;
        }
      }
    },
    stop() {},
  };
}

interface NodeLine {
  node: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  current: string;
  detail: string;
  startedAt: number;
  ms: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The live task list for a terminal. */
export async function ttyProgress(plan: UpgradePlan, stream: NodeJS.WriteStream): Promise<Progress> {
  const { createLogUpdate } = await import('log-update');
  const pc = (await import('picocolors')).default;
  const update = createLogUpdate(stream, { showCursor: false });
  const order: string[] = [];
  for (const s of planSteps(plan)) if (!order.includes(s.node)) order.push(s.node);
  const lines = new Map<string, NodeLine>(
    order.map((n) => [n, { node: n, state: 'pending', current: '', detail: '', startedAt: 0, ms: 0 }]),
  );
  const width = Math.max(...order.map((n) => n.length));
  // The last step of each node in each phase: when it is done, the node's line is done.
  const lastOfNode = new Set<string>();
  for (const p of plan.phases) {
    const last = new Map<string, string>();
    for (const s of p.steps) last.set(s.node, s.id);
    for (const id of last.values()) lastOfNode.add(id);
  }
  let frame = 0;
  let header = `Upgrading ${plan.cluster} to ${plan.target.version}`;
  const render = () => {
    const body = order.map((n) => {
      const l = lines.get(n)!;
      const name = l.node.padEnd(width);
      switch (l.state) {
        case 'pending':
          return `  ${pc.dim('○')} ${pc.dim(name)}`;
        case 'running':
          return `  ${pc.cyan(SPINNER[frame % SPINNER.length]!)} ${name}  ${l.current}${l.detail ? pc.dim(` — ${l.detail}`) : ''} ${pc.dim(fmtMs(Date.now() - l.startedAt))}`;
        case 'done':
          return `  ${pc.green('✔')} ${name}  ${pc.dim(`done in ${fmtMs(l.ms)}`)}`;
        case 'failed':
          return `  ${pc.red('✖')} ${name}  ${pc.red(`${l.current} failed`)}${l.detail ? ` — ${l.detail}` : ''}`;
      }
    });
    update([pc.bold(header), ...body].join('\n'));
  };
  const timer = setInterval(() => {
    frame++;
    render();
  }, 100);
  timer.unref();
  return {
    emit(e) {
      switch (e.kind) {
        case 'phase-start':
          header = `Upgrading ${plan.cluster} to ${plan.target.version} — phase ${e.index + 1}/${e.total}: ${e.phase.version}`;
          // A node appears again in a later phase: reset it to pending.
          for (const s of e.phase.steps) {
            const l = lines.get(s.node);
            if (l && l.state === 'done') l.state = 'pending';
          }
          break;
        case 'step-start': {
          const l = lines.get(e.step.node)!;
          if (l.state !== 'running') l.startedAt = Date.now();
          l.state = 'running';
          l.current = STEP_WORD[e.step.kind] + (e.step.kind === 'install' ? ` ${e.step.version}` : '');
          l.detail = '';
          break;
        }
        case 'step-done': {
          const l = lines.get(e.step.node)!;
          if (lastOfNode.has(e.step.id)) {
            l.state = 'done';
            l.ms = Date.now() - l.startedAt;
          }
          l.detail = '';
          break;
        }
        case 'step-failed': {
          const l = lines.get(e.step.node)!;
          l.state = 'failed';
          l.detail = e.error.message;
          break;
        }
        case 'wait': {
          const l = lines.get(e.step.node);
          if (l) l.detail = e.message;
          break;
        }
        case 'heartbeat': {
          // The line keeps moving (spinner and elapsed time); the heartbeat brings its last words.
          const l = lines.get(e.step.node);
          if (l && e.last) l.detail = e.last;
          break;
        }
        case 'log':
          update.clear();
          stream.write(`${e.level === 'warn' ? pc.yellow('warning: ') : ''}${e.node ? `${e.node}: ` : ''}${e.message}\n`);
          break;
        default: {
          const never: never = e;
          return never;
        }
      }
      render();
    },
    stop() {
      clearInterval(timer);
      render();
      update.done();
    },
  };
}

/** -q/--quiet: only what needs the user's eyes (warnings and failed steps) reaches `inner`. */
export function quietProgress(inner: Progress): Progress {
  return {
    emit(e) {
      if ((e.kind === 'log' && e.level === 'warn') || e.kind === 'step-failed') inner.emit(e);
    },
    stop: () => inner.stop(),
  };
}
