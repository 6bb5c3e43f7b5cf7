/**
 * The journal: one JSON-lines file per cluster in the user's state directory
 * (`<stateDir>/journal/<cluster>.jsonl`, mode 0600, directory 0700), recording every operation
 * that changes the cluster (upgrade, restore, uninstall...). Every step is recorded before it
 * starts and after it ends, each line written and fsynced before the step goes on, so a killed
 * process leaves a journal that says exactly which step was in flight.
 * Secrets never go in it: records carry step ids, node names, versions and messages only.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode, FileError, fileError } from '../domain/errors.js';
import { fileInTheWay } from './local-files.js';

export const JOURNAL_VERSION = 1;

export type RunEndStatus = 'done' | 'failed' | 'stopped' | 'resumed' | 'abandoned';

export type JournalRecord =
  | {
      type: 'run-start';
      run: string;
      /** @default 'upgrade' (journals before other operations were journaled) */
      operation?: string;
      /** What the operation was given (a node, a backup's name). */
      args?: string[];
      planDigest?: string;
      target?: string;
      source?: string;
      order?: string;
      allowSkew?: boolean;
      snapshot?: boolean;
      holder: string;
      steps: string[];
      resumes?: string;
    }
  | { type: 'step-start'; run: string; step: string; node: string }
  | { type: 'step-done'; run: string; step: string; ms: number; note?: string }
  | { type: 'step-failed'; run: string; step: string; message: string; interrupted: boolean }
  | { type: 'note'; run: string; node?: string; message: string }
  | {
      type: 'run-end';
      run: string;
      status: RunEndStatus;
      leftCordoned: string[];
      midUpgrade: string[];
      /** Closed from the cluster's run record: the run that continued it, or who abandoned it elsewhere. */
      by?: string;
      message?: string;
    };

export type Stamped = JournalRecord & { v: number; t: string };

export function journalPath(stateDirectory: string, cluster: string): string {
  return join(stateDirectory, 'journal', `${cluster}.jsonl`);
}

/** The journal cannot be written (state directory unwritable, disk full). */
export class JournalError extends FileError {}

/**
 * What stopped pve-k3s from reading or writing the journal, in words that name the file (or
 * the file that stands where its directory should be) and the system's code.
 */
function journalError(e: unknown, file: string, o: { action: 'read' | 'write'; hint: string }): JournalError {
  const code = errnoCode(e);
  const blocker = code === 'ENOTDIR' || code === 'EEXIST' ? fileInTheWay(dirname(file)) : undefined;
  let reason: string;
  if (blocker !== undefined) reason = `${blocker} is a file, not a directory (${code})`;
  else {
    const f = fileError(e, { action: `${o.action} the journal`, path: file });
    const prefix = `cannot ${o.action} the journal ${file}: `;
    reason = f instanceof FileError && f.message.startsWith(prefix) ? f.message.slice(prefix.length) : (e as Error).message;
  }
  return new JournalError(`cannot ${o.action} the journal ${file}: ${reason}`, {
    path: file,
    code,
    hint: blocker !== undefined ? `move ${blocker} away, or set XDG_STATE_HOME to a writable directory; ${o.hint}` : o.hint,
    detail: (e as Error).message,
    cause: e,
  });
}

export class Journal {
  constructor(readonly file: string) {}

  /**
   * Throws JournalError unless the journal (and its directory) can be written: called before
   * the cluster lease is taken, so an unwritable state directory never strands a lease.
   */
  checkWritable(): void {
    const dir = dirname(this.file);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const fresh = !existsSync(this.file);
      closeSync(openSync(this.file, 'a', 0o600));
      if (fresh) chmodSync(this.file, 0o600);
    } catch (e) {
      throw journalError(e, this.file, {
        action: 'write',
        hint:
          fileInTheWay(dir) !== undefined
            ? 'pve-k3s records every step there before it changes the cluster, and nothing was changed'
            : `pve-k3s records every step there before it changes the cluster, and nothing was changed; make ${dir} writable, or set XDG_STATE_HOME to a writable directory`,
      });
    }
  }

  append(rec: JournalRecord): void {
    try {
      const dir = join(this.file, '..');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const line = JSON.stringify({ v: JOURNAL_VERSION, t: new Date().toISOString(), ...rec }) + '\n';
      const fresh = !existsSync(this.file);
      const fd = openSync(this.file, 'a', 0o600);
      try {
        writeSync(fd, line);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (fresh) chmodSync(this.file, 0o600);
    } catch (e) {
      throw journalError(e, this.file, {
        action: 'write',
        hint: `make ${dirname(this.file)} writable (or free space on its disk), then see \`pve-k3s status\`: the cluster's run record says where the run stopped`,
      });
    }
  }

  /** Every record, in order; a torn last line (the process died while writing it) is skipped. */
  read(): Stamped[] {
    if (!existsSync(this.file)) return [];
    const out: Stamped[] = [];
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      throw journalError(e, this.file, {
        action: 'read',
        hint: `pve-k3s keeps its journal there; make it a readable file again (or move it away to start a new one)`,
      });
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as Stamped);
      } catch {
        // torn write: ignore
      }
    }
    return out;
  }

  /** The last run and what became of it. */
  lastRun(): RunSummary | undefined {
    return summarize(this.read());
  }
}

export interface RunSummary {
  run: string;
  /** `upgrade`, `restore`, `uninstall`, ... */
  operation: string;
  startedAt: string;
  target: string;
  source: string;
  order: string;
  allowSkew: boolean;
  /** Whether the run took snapshots (resume keeps doing so). */
  snapshot: boolean;
  holder: string;
  /** Runs this one continues (known from the cluster's run record). */
  lineage?: string[];
  /** undefined while the run is recorded in progress (running now, or its process died). */
  status: RunEndStatus | undefined;
  endedAt: string | undefined;
  completed: string[];
  /** The first of `open`: the step the run was at. */
  inFlight: string | undefined;
  /** Every step started and never recorded as ended, in the order they started (several with --parallel). */
  open: string[];
  /** The first step that failed. */
  failed: { step: string; message: string } | undefined;
  leftCordoned: string[];
  midUpgrade: string[];
}

export function summarize(records: readonly Stamped[]): RunSummary | undefined {
  let start: (Stamped & { type: 'run-start' }) | undefined;
  for (const r of records) if (r.type === 'run-start') start = r;
  if (!start) return undefined;
  const run = start.run;
  const s: RunSummary = {
    run,
    operation: start.operation ?? 'upgrade',
    startedAt: start.t,
    target: start.target ?? '',
    source: start.source ?? '',
    order: start.order ?? '',
    allowSkew: start.allowSkew ?? false,
    snapshot: start.snapshot ?? false,
    holder: start.holder,
    status: undefined,
    endedAt: undefined,
    completed: [],
    inFlight: undefined,
    open: [],
    failed: undefined,
    leftCordoned: [],
    midUpgrade: [],
  };
  const close = (step: string) => (s.open = s.open.filter((x) => x !== step));
  for (const r of records) {
    if (r.run !== run) continue;
    switch (r.type) {
      case 'step-start':
        close(r.step);
        s.open.push(r.step);
        break;
      case 'step-done':
        s.completed.push(r.step);
        close(r.step);
        break;
      case 'step-failed':
        // The first failure stopped the run; later ones (steps in flight beside it) followed from it.
        s.failed ??= { step: r.step, message: r.message };
        close(r.step);
        break;
      case 'run-end':
        s.status = r.status;
        s.endedAt = r.t;
        s.leftCordoned = r.leftCordoned;
        s.midUpgrade = r.midUpgrade;
        break;
      default:
        break;
    }
  }
  s.inFlight = s.open[0];
  return s;
}

/**
 * The nodes the run installed or restarted without confirming their health: left mid-upgrade,
 * or whose install, restart or health gate was in flight or failed.
 */
export function unconfirmedNodes(s: RunSummary): string[] {
  const out = new Set(s.midUpgrade);
  for (const id of [...s.open, s.failed?.step]) {
    const [, node, kind] = (id ?? '').split('/');
    if (node && (kind === 'install' || kind === 'restart' || kind === 'wait-ready')) out.add(node);
  }
  return [...out];
}

/** A run that `resume` can continue: recorded in progress, failed or stopped. */
export function resumable(s: RunSummary): boolean {
  return s.status === undefined || s.status === 'failed' || s.status === 'stopped';
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${Math.random().toString(36).slice(2, 8)}`;
}
