// Runs every compiled test file with Node's built-in runner. Node 20's `--test` has no glob
// support, so the file list is made here; extra arguments are passed through (e.g. a filter).
//
// Two things make the wall time shorter without changing what any test does:
// - The slowest files start first (scripts/test-durations.json, made by `--save-durations`):
//   started in name order, a long file that comes last runs alone on one core at the end.
// - Temporary files go to a RAM file system (/dev/shm) when TMPDIR is not set: every journal
//   line is fsynced before a step goes on (src/operation/journal.ts), ~4 ms each on a disk,
//   and the tests write thousands. The fsync is still called; only the disk wait goes.
// - One file more at once than there are cores: many files spend much of their time waiting
//   (ssh logins, a lease to expire, a child process), so a third file on 2 cores fills that
//   time. Measured on the 2-core CI machine, one run each after the durations were refreshed:
//   142 s at 2, 131 s at 3. PVE_K3S_TEST_CONCURRENCY=N sets it.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, URL } from 'node:url';

const DURATIONS = fileURLToPath(new URL('test-durations.json', import.meta.url));
const REPORTER = fileURLToPath(new URL('test-durations-reporter.mjs', import.meta.url));

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** Known durations (ms) by file, slowest first; a file not listed counts as the median. */
function slowestFirst(files) {
  let known = {};
  try {
    known = JSON.parse(readFileSync(DURATIONS, 'utf8'));
  } catch {
    return files;
  }
  const values = Object.values(known).sort((a, b) => a - b);
  const median = values[Math.floor(values.length / 2)] ?? 0;
  const ms = (f) => known[f.replace(/\\/g, '/')] ?? median;
  return files
    .map((f, i) => ({ f, i, ms: ms(f) }))
    .sort((a, b) => b.ms - a.ms || a.i - b.i)
    .map((x) => x.f);
}

/** A directory on a RAM file system for TMPDIR, if there is one with room that allows running files. */
function ramTmpdir() {
  const root = '/dev/shm';
  try {
    const s = statfsSync(root);
    if (s.bavail * s.bsize < 2 ** 30) return undefined;
    const dir = mkdtempSync(join(root, 'pk3t-'));
    const probe = join(dir, 'probe');
    writeFileSync(probe, '#!/bin/sh\nexit 0\n');
    chmodSync(probe, 0o755);
    const ok = spawnSync(probe).status === 0;
    rmSync(probe);
    if (ok) return dir;
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // no RAM file system here: the default TMPDIR
  }
  return undefined;
}

const args = process.argv.slice(2);
const save = args.includes('--save-durations');
const only = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-') && a !== '--save-durations');
// Only tests whose source still exists: a moved or deleted test leaves its old .js in dist/.
let files = find('dist/test').filter((f) => existsSync(f.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts')));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
files = slowestFirst(files);

const env = { ...process.env };
const tmp = env.TMPDIR ? undefined : ramTmpdir();
if (tmp) env.TMPDIR = tmp;
const measured = save ? join(tmp ?? '.', `durations-${process.pid}.jsonl`) : undefined;
const reporters = measured
  ? [
      `--test-reporter=${flags.find((f) => f.startsWith('--test-reporter='))?.slice(16) ?? (process.stdout.isTTY ? 'spec' : 'tap')}`,
      '--test-reporter-destination=stdout',
      `--test-reporter=${REPORTER}`,
      `--test-reporter-destination=${measured}`,
    ]
  : [];
const passed = measured ? flags.filter((f) => !f.startsWith('--test-reporter')) : flags;
const concurrency = Number(process.env.PVE_K3S_TEST_CONCURRENCY) || availableParallelism() + 1;
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...reporters, ...passed, ...files], {
  stdio: 'inherit',
  env,
});
if (measured && existsSync(measured)) {
  // Merged into what is known: a run of some files keeps the others' figures.
  let known = {};
  try {
    known = JSON.parse(readFileSync(DURATIONS, 'utf8'));
  } catch {
    // first run
  }
  const now = {};
  for (const line of readFileSync(measured, 'utf8').split('\n').filter(Boolean)) {
    const { file, ms } = JSON.parse(line);
    now[file] = (now[file] ?? 0) + ms;
  }
  for (const [file, ms] of Object.entries(now)) known[file] = Math.round(ms);
  const sorted = Object.fromEntries(Object.entries(known).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(DURATIONS, `${JSON.stringify(sorted, null, 2)}\n`);
}
if (tmp) rmSync(tmp, { recursive: true, force: true });
process.exit(r.status ?? 1);
