/** The journal: file mode, torn lines, how a run's state is read back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, journalPath, resumable, summarize, type Stamped } from '../../src/operation/journal.js';

const start = {
  type: 'run-start' as const,
  run: 'r1',
  target: 'v1.33.5+k3s1',
  source: 'channel stable',
  order: 'auto',
  allowSkew: false,
  holder: 'u@h pid 1',
  steps: ['1/a/drain', '1/a/install'],
};

test('GIVEN a new journal WHEN a record is appended THEN the file is 0600 in a 0700 directory under the state dir, one JSON line per record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-journal-'));
  try {
    const file = journalPath(join(dir, 'state'), 'lab');
    assert.equal(file, join(dir, 'state', 'journal', 'lab.jsonl'));
    const j = new Journal(file);
    j.append(start);
    j.append({ type: 'step-start', run: 'r1', step: '1/a/drain', node: 'a' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'state', 'journal')).mode & 0o777, 0o700);
    const recs = j.read();
    assert.deepEqual(
      recs.map((r) => r.type),
      ['run-start', 'step-start'],
    );
    assert.equal(recs[0]?.v, 1);
    // A torn last line (killed while writing) is ignored.
    appendFileSync(file, '{"v":1,"type":"step-do');
    assert.equal(j.read().length, 2);
    const s = j.lastRun()!;
    assert.equal(s.status, undefined);
    assert.equal(s.inFlight, '1/a/drain');
    assert.ok(resumable(s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GIVEN records of two runs WHEN summarized THEN the last run counts: completed, failed step, end status', () => {
  const t = '2026-01-01T00:00:00.000Z';
  const recs: Stamped[] = [
    { v: 1, t, ...start },
    { v: 1, t, type: 'run-end', run: 'r1', status: 'done', leftCordoned: [], midUpgrade: [] },
    { v: 1, t, ...start, run: 'r2' },
    { v: 1, t, type: 'step-start', run: 'r2', step: '1/a/drain', node: 'a' },
    { v: 1, t, type: 'step-done', run: 'r2', step: '1/a/drain', ms: 5 },
    { v: 1, t, type: 'step-start', run: 'r2', step: '1/a/install', node: 'a' },
    { v: 1, t, type: 'step-failed', run: 'r2', step: '1/a/install', message: 'boom', interrupted: false },
    { v: 1, t, type: 'run-end', run: 'r2', status: 'failed', leftCordoned: ['a'], midUpgrade: ['a'] },
  ];
  const s = summarize(recs)!;
  assert.equal(s.run, 'r2');
  assert.deepEqual(s.completed, ['1/a/drain']);
  assert.deepEqual(s.failed, { step: '1/a/install', message: 'boom' });
  assert.equal(s.inFlight, undefined);
  assert.equal(s.status, 'failed');
  assert.deepEqual(s.leftCordoned, ['a']);
  assert.ok(resumable(s));
  assert.ok(!resumable(summarize(recs.slice(0, 2))!));
  assert.equal(summarize([]), undefined);
});
