/**
 * Shared by the fault tests: a lab per test (on the lab's virtual clock, see lab-cli.ts), the
 * journal, a CLI run in the background.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { labFixture, type CliResult, type LabFixture } from '../helpers/lab-cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import type { Lab } from '../../src/lab/index.js';
import { summarize, type Stamped } from '../../src/operation/journal.js';

export async function withLab(opts: Parameters<typeof labFixture>[0], fn: (f: LabFixture) => Promise<void>): Promise<void> {
  const f = await labFixture(opts);
  try {
    await fn(f);
  } finally {
    f.cleanup();
  }
}

export function journalFile(f: LabFixture): string {
  return join(f.dir, 'state', 'pve-k3s', 'journal', 'lab.jsonl');
}

export function journal(f: LabFixture): Stamped[] {
  const file = journalFile(f);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Stamped);
}

export function lastRun(f: LabFixture) {
  return summarize(journal(f));
}

/** Every run in the journal: started, each step started was also ended (done or failed), and the run ended. */
export function assertJournalConsistent(f: LabFixture, ok: (cond: boolean, msg: string) => void): void {
  const recs = journal(f);
  const runs = [...new Set(recs.map((r) => r.run))];
  for (const run of runs) {
    const mine = recs.filter((r) => r.run === run);
    ok(mine[0]?.type === 'run-start', `run ${run} starts with run-start`);
    ok(
      mine.some((r) => r.type === 'run-end'),
      `run ${run} has a run-end`,
    );
    const started = mine.filter((r) => r.type === 'step-start').map((r) => (r as { step: string }).step);
    const ended = mine.filter((r) => r.type === 'step-done' || r.type === 'step-failed').map((r) => (r as { step: string }).step);
    ok(
      JSON.stringify(started) === JSON.stringify(ended),
      `run ${run}: every started step ended (${started.join(',')} vs ${ended.join(',')})`,
    );
  }
}

export function container(lab: Lab, name: string) {
  for (const h of lab.state.hosts) for (const c of h.containers) if (c.hostname === name) return c;
  throw new Error(`no container ${name}`);
}

export function kubelets(lab: Lab): Set<string | undefined> {
  return new Set(
    lab
      .summary()
      .filter((n) => n.role)
      .map((n) => n.kubelet),
  );
}

export function cordoned(lab: Lab): string[] {
  return lab
    .summary()
    .filter((n) => n.role && n.schedulable === false)
    .map((n) => n.name);
}

export interface Background {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** The CLI started and left running (to be signalled or killed by the test). */
export function background(f: LabFixture, args: string[]): Background {
  const bin = join(repoRoot(), 'dist', 'src', 'cli', 'bin.js');
  const child = spawn(process.execPath, [bin, ...args], { cwd: f.dir, env: f.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end();
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/**
 * Waits until the journal records `type` for `step`. Meanwhile the lab's clock is held (the run
 * waits in real time, so it cannot get past the step before the test sees it), until the test
 * has done what it does right after (signal the run, change the lab) and waits again.
 */
export async function waitForJournal(f: LabFixture, type: string, step: string, timeoutMs = 20_000): Promise<void> {
  const release = f.lab.clock.hold();
  try {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (journal(f).some((r) => r.type === type && (r as { step?: string }).step === step)) {
        setImmediate(release);
        return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } catch (e) {
    release();
    throw e;
  }
  release();
  throw new Error(`journal never recorded ${type} ${step}`);
}
