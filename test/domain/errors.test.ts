import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortedError,
  BugError,
  FileError,
  InventoryError,
  KubeError,
  PlanError,
  RunError,
  UsageError,
  fileError,
  invariant,
} from '../../src/domain/errors.js';
import { formatError } from '../../src/cli/report-error.js';

test('GIVEN each error class WHEN made with its one options object THEN its fields are read from it', () => {
  const r = new RunError('m', { node: 'n', step: 's', hint: 'h', detail: 'd' });
  assert.deepEqual([r.node, r.step, r.hint, r.detail, r.exitCode], ['n', 's', 'h', 'd', 1]);
  const i = new InventoryError('m', { file: 'f', line: 3, field: 'nodes.x' });
  assert.deepEqual([i.file, i.line, i.field, i.exitCode], ['f', 3, 'nodes.x', 2]);
  const p = new PlanError('m', { reason: 'skew', node: 'n' });
  assert.deepEqual([p.reason, p.node], ['skew', 'n']);
  const k = new KubeError('m', { reason: 'forbidden', kubectl: 'Error from server (Forbidden): x', exitStatus: 1 });
  assert.deepEqual([k.reason, k.kubectl, k.exitStatus, k.permanent], ['forbidden', 'Error from server (Forbidden): x', 1, true]);
  const cause = new Error('inner');
  assert.equal(new UsageError('m', { cause }).cause, cause);
});

test('GIVEN Ctrl-C at a prompt WHEN reported THEN one word, `aborted`, and exit 130', () => {
  assert.deepEqual(formatError(new AbortedError('aborted'), false), { text: 'aborted\n', code: 130 });
});

test('GIVEN a typed error WHEN reported THEN never "this is a bug"; a BugError or an untyped error says it is one', () => {
  const typed = formatError(
    new KubeError('kubectl get node x on c: refused', { reason: 'refused', kubectl: 'refused', hint: 'start k3s' }),
    false,
  );
  assert.deepEqual(typed, { text: 'error: kubectl get node x on c: refused\n  start k3s\n', code: 1 });
  assert.match(formatError(new BugError('no shell for host pve9'), false).text, /this is a bug in pve-k3s/);
  assert.match(formatError(new Error('boom'), false).text, /this is a bug in pve-k3s/);
  assert.match(formatError('a string', false).text, /^error: a string\n.*this is a bug/s);
});

test('GIVEN a false condition WHEN invariant() THEN a BugError with the message; a true one passes', () => {
  assert.throws(() => invariant(false, 'no shell for host pve9'), { name: 'BugError', message: 'no shell for host pve9' });
  invariant(1, () => assert.fail('the message is made only on failure'));
});

test('GIVEN system errors of file operations WHEN fileError() THEN a FileError names the path and says it in words', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-errors-'));
  try {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'f'), '');
    const cases: Array<[() => void, string, RegExp]> = [
      [() => writeFileSync(join(dir, 'd'), 'x'), join(dir, 'd'), / is a directory \(EISDIR\)$/],
      [
        () => mkdirSync(join(dir, 'f', 'x'), { recursive: true }),
        join(dir, 'f', 'x', 'k'),
        /: a file stands where a directory is needed (in|at) .*f(\/x)? \((ENOTDIR|EEXIST)\)$/,
      ],
      [() => writeFileSync(join(dir, 'f', 'x'), 'x'), join(dir, 'f', 'x'), /\(ENOTDIR\)$/],
    ];
    for (const [op, path, re] of cases) {
      let caught: unknown;
      try {
        op();
      } catch (e) {
        caught = e;
      }
      const err = fileError(caught, { action: 'write', path });
      assert.ok(err instanceof FileError, String(err));
      assert.equal(err.path, path);
      assert.match(err.message, new RegExp(`^cannot write ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      assert.match(err.message, re);
      assert.ok(err.hint);
    }
    const plain = new RangeError('not a system error');
    assert.equal(fileError(plain, { action: 'write', path: 'x' }), plain);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GIVEN EISDIR on a file WHEN fileError() THEN the message is pinned', () => {
  const e = Object.assign(new Error("EISDIR: illegal operation on a directory, open '/home/u/kube'"), {
    code: 'EISDIR',
    syscall: 'open',
    path: '/home/u/kube',
  });
  const err = fileError(e, { action: 'write the kubeconfig to', path: '/home/u/kube' }) as FileError;
  assert.equal(err.message, 'cannot write the kubeconfig to /home/u/kube: it is a directory (EISDIR)');
  assert.equal(err.hint, 'name a file, not a directory');
});
