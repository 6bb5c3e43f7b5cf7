/**
 * The lab's sh held to dash and busybox sh: every script builder of the product, fed generated
 * inputs, is checked by `dash -n`, `busybox sh -n` and `shellcheck -s sh`, then run by dash,
 * by busybox sh and by the lab's sh, in the same throwaway root with the same stub programs;
 * stdout, stderr and exit status must be identical. A construct the lab's sh does not support
 * must be refused out loud (exit 2, "lab sh does not support"), never run differently.
 * Needs bubblewrap, dash, busybox and shellcheck (Debian packages; .ci/run installs them):
 * skipped locally without them, failed under CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { runShProgram } from '../../src/lab/sh.js';
import { isCi } from '../e2e/harness/sshd.js';
import { BUILDERS } from './scripts.js';
import { haveTools, PATH, Sandbox, STUBS } from './sandbox.js';

const missing = haveTools();
const skip = missing !== undefined && !isCi() ? missing : false;
/** Inputs per builder (PVE_K3S_CONFORMANCE_RUNS to raise it). */
const RUNS = Number(process.env.PVE_K3S_CONFORMANCE_RUNS ?? 6);
const ENV = { PATH, HOME: '/root', LC_ALL: 'C' };

/** shellcheck codes that are the point of a script, not a mistake in it. */
const SHELLCHECK_EXCLUDE = [
  'SC2016', // expressions in single quotes: the scripts quote $1 for an inner `sh -c` on purpose
  'SC2089', // quotes in a value (a token with ' in it) are the value, and meant literally
  'SC2090', // the same, where that variable is exported
  'SC1003', // info: '\'' inside a printf format is the one quoting helper's escape, on purpose
  'SC2010', // `ls | grep` in the etcd backup: snapshot names are pve-k3s-<stamp>-<node>, no odd characters
];

const counts = { scripts: 0, syntaxChecks: 0, runs: 0, differences: [] as string[] };

function syntax(script: string, builder: string): void {
  for (const [name, argv] of [
    ['dash -n', ['dash', '-n']],
    ['busybox sh -n', ['busybox', 'sh', '-n']],
    ['shellcheck -s sh', ['shellcheck', '-s', 'sh', '-e', SHELLCHECK_EXCLUDE.join(','), '-']],
  ] as const) {
    const r = spawnSync(argv[0], argv.slice(1), { input: script, encoding: 'utf8' });
    counts.syntaxChecks++;
    assert.equal(r.status, 0, `${name} refuses the ${builder} script:\n${r.stdout}${r.stderr}\n--- script ---\n${script}`);
  }
}

for (const [builder, arb] of Object.entries(BUILDERS)) {
  test(`conformance: ${builder}: dash, busybox sh and the lab's sh agree`, { skip }, async () => {
    await fc.assert(
      fc.asyncProperty(arb, fc.subarray(STUBS, { maxLength: 2 }), fc.constantFrom(1, 3, 255), async (script, failing, code) => {
        counts.scripts++;
        syntax(script, builder);
        const results: Array<[string, { code: number; stdout: string; stderr: string }]> = [];
        for (const shell of ['dash', 'busybox', 'lab'] as const) {
          const box = new Sandbox(Object.fromEntries(failing.map((f) => [f, code])));
          try {
            const r =
              shell === 'lab'
                ? await runShProgram(box.labHost(), { argv: ['sh', '-s'], env: { ...ENV }, stdin: script })
                : await box.run(shell === 'dash' ? ['dash', '-s'] : ['busybox', 'sh', '-s'], { ...ENV }, script);
            counts.runs++;
            results.push([shell, { code: r.code, stdout: r.stdout, stderr: r.stderr }]);
          } finally {
            box.remove();
          }
        }
        const [, dash] = results[0]!;
        for (const [shell, r] of results.slice(1)) {
          if (shell === 'busybox') {
            // busybox names itself differently in its own messages; its streams and status must match dash's otherwise.
            assert.equal(
              r.code,
              dash.code,
              `busybox sh vs dash exit status for ${builder}: ${JSON.stringify(r)} vs ${JSON.stringify(dash)}`,
            );
            assert.equal(
              r.stdout,
              dash.stdout,
              `busybox sh vs dash stdout for ${builder}: ${JSON.stringify(r)} vs ${JSON.stringify(dash)}`,
            );
            continue;
          }
          if (r.code === 2 && /lab sh does not support/.test(r.stderr)) {
            counts.differences.push(`${builder}: refused by the lab's sh: ${r.stderr.trim()}`);
            assert.fail(`the lab's sh refuses a product script (${builder}): ${r.stderr}`);
          }
          assert.deepEqual(
            r,
            dash,
            `the lab's sh vs dash for ${builder} (stubs failing: ${failing.join(',') || 'none'} with ${code})\n--- lab ---\n${JSON.stringify(r)}\n--- dash ---\n${JSON.stringify(dash)}\n--- script ---\n${script}`,
          );
        }
      }),
      { numRuns: RUNS },
    );
  });
}

/** Small generated scripts of builtins: the lab's sh prints what dash prints, or refuses out loud. */
const WORDS = ['a', '"$x"', '$x', "'it''s'", '"$(echo s)"', '${x:-d}', '${#x}', '$?', '"$@"', '$$', '*', '`echo b`', '$((1+2))', '~'];
const COMMANDS = fc.oneof(
  fc
    .tuple(fc.constantFrom('echo', 'printf "%s|"'), fc.array(fc.constantFrom(...WORDS), { maxLength: 3 }))
    .map(([c, w]) => `${c} ${w.join(' ')}`),
  fc.constantFrom(
    'x=1',
    'x="a b"',
    'a=1 b=$a',
    'unset x',
    'true',
    'false',
    '(exit 3)',
    'exit 4',
    'set -e',
    'set -u',
    'wait',
    'echo e >&2',
    'echo o 2>&1',
    'if true; then echo t; fi',
    'f() { echo f; }',
    'cat <<E\nh\nE',
  ),
);
const SCRIPTS = fc
  // No background jobs here: what they print races the next command in dash (the product
  // scripts' jobs, in the parallel batches above, write to files and are waited for).
  .array(fc.tuple(COMMANDS, fc.constantFrom('\n', '; ', ' && ', ' || ', ' | ')), { minLength: 1, maxLength: 5 })
  .map((parts) => parts.map(([c, sep], i) => c + (i < parts.length - 1 ? sep : '\n')).join(''));

test("conformance: generated scripts of builtins: the lab's sh agrees with dash or refuses out loud", { skip }, async () => {
  let refused = 0;
  let agreed = 0;
  await fc.assert(
    fc.asyncProperty(SCRIPTS, async (script) => {
      const dash = spawnSync('dash', ['-s', 'p1', 'p 2'], { input: script, encoding: 'utf8', env: ENV });
      const box = new Sandbox();
      let timer: NodeJS.Timeout | undefined;
      const lab = await Promise.race([
        runShProgram(box.labHost(), { argv: ['sh', '-s', 'p1', 'p 2'], env: { ...ENV }, stdin: script }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the lab's sh did not finish:\n${script}`)), 10_000);
        }),
      ]).finally(() => {
        clearTimeout(timer);
        box.remove();
      });
      if (lab.code === 2 && /lab sh does not support/.test(lab.stderr)) {
        refused++;
        assert.equal(lab.stdout, '', 'a refusal runs nothing');
        return;
      }
      agreed++;
      // $$ is each shell's own pid: compare what does not depend on it.
      const norm = (s: string) => s.replace(/\b\d{3,7}\b/g, 'PID').replace(/^dash: /gm, 'sh: ');
      assert.deepEqual(
        { code: lab.code, stdout: norm(lab.stdout), stderr: norm(lab.stderr) },
        { code: dash.status, stdout: norm(dash.stdout), stderr: norm(dash.stderr) },
        `--- script ---\n${script}`,
      );
    }),
    { numRuns: RUNS * 25 },
  );
  counts.runs += agreed + refused;
  assert.ok(refused > 0 && agreed > 0, `both outcomes seen (agreed ${agreed}, refused ${refused})`);
});

test('conformance: counts', { skip }, () => {
  // Shown in the test output so the note can cite it (scripts x inputs x shells).
  console.log(
    `conformance: ${Object.keys(BUILDERS).length} builders x ${RUNS} inputs = ${counts.scripts} product scripts, ${counts.syntaxChecks} syntax checks, ${counts.runs} runs; differences: ${counts.differences.length}`,
  );
  assert.ok(counts.scripts >= Object.keys(BUILDERS).length * RUNS);
});
