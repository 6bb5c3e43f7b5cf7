import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import fc from 'fast-check';
import { quoteArg, quoteCommand } from '../../src/shell/quote.js';

// Shells a Proxmox host's login shell could be; dash is Debian's /bin/sh, bash is root's shell.
const SHELLS = [...new Set(['/bin/sh', '/bin/bash', '/bin/dash'].filter((s) => existsSync(s)).map((s) => realpathSync(s)))];
const PRINTF = ['/usr/bin/printf', '/bin/printf'].find((p) => existsSync(p)) ?? 'printf';

/** Run `<shell> -c <script>` with no local shell in between, exactly as sshd does. */
function viaShell(shell: string, script: string): Buffer[] {
  const r = spawnSync(shell, ['-c', script], { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${shell} failed: ${r.stderr?.toString()}`);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < r.stdout.length; i++) {
    if (r.stdout[i] === 0) {
      parts.push(r.stdout.subarray(start, i));
      start = i + 1;
    }
  }
  assert.equal(start, r.stdout.length, 'output must end with a NUL');
  return parts;
}

function assertSameBytes(got: Buffer[], want: readonly string[]): void {
  assert.deepEqual(
    got.map((b) => b.toString('hex')),
    want.map((s) => Buffer.from(s, 'utf8').toString('hex')),
  );
}

const HOSTILE = [
  'two words',
  "it's",
  "'",
  "''",
  "'\\''",
  '"',
  'a"b"c',
  '$(id)',
  '`id`',
  '${HOME}',
  '$HOME',
  'a;rm -rf /',
  'a && b',
  'a|b',
  'x\ny',
  '\n',
  '\t',
  '*',
  '/*',
  '~',
  '~root',
  '-n',
  '-e',
  '--',
  '-',
  'ünïcödé ✓ 🚀',
  '\\',
  '\\n',
  '!',
  '!!',
  '#comment',
  'a#b',
  '{a,b}',
  '[ab]',
  '?',
  '&',
  '<in',
  '>out',
  '(x)',
  ' ',
  '  lead',
  'trail  ',
  '=',
  'k=v',
  '%s\\0',
  '\x01\x7f',
  '\r\n',
];

describe('quoteArg', () => {
  const table: Array<[string, string]> = [
    ['pct', 'pct'],
    ['--', '--'],
    ['101', '101'],
    ['/usr/local/bin/k3s', '/usr/local/bin/k3s'],
    ['--timeout=300s', '--timeout=300s'],
    ['k=v', 'k=v'],
    ['user@host:22', 'user@host:22'],
    ['', "''"],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ["'", "''\\'''"],
    ['$(id)', "'$(id)'"],
    ['`id`', "'`id`'"],
    ['a;b', "'a;b'"],
    ['x\ny', "'x\ny'"],
    ['*', "'*'"],
    ['~', "'~'"],
    ['-n', '-n'],
    ['ü', "'ü'"],
    ['!', "'!'"],
  ];
  for (const [input, want] of table) {
    test(`${JSON.stringify(input)} -> ${want}`, () => assert.equal(quoteArg(input), want));
  }

  test('a NUL byte throws a TypeError', () => {
    assert.throws(() => quoteArg('a\0b'), { name: 'TypeError', message: 'quoteArg: an argument cannot contain a NUL byte' });
  });

  test('a lone surrogate throws a TypeError (its bytes would change)', () => {
    assert.throws(() => quoteArg('a\uD800b'), TypeError);
    assert.throws(() => quoteArg('\uDC00'), TypeError);
    assert.equal(quoteArg('\uD83D\uDE80'), "'🚀'");
  });
});

describe('quoteCommand', () => {
  test('joins quoted words with single spaces', () => {
    assert.equal(
      quoteCommand(['pct', 'exec', '101', '--', '/usr/local/bin/k3s', '--version']),
      'pct exec 101 -- /usr/local/bin/k3s --version',
    );
    assert.equal(quoteCommand(['pct', 'exec', '101', '--', 'sh', '-c', 'echo $HOME']), "pct exec 101 -- sh -c 'echo $HOME'");
  });

  test('a first word that would be an assignment or a reserved word is quoted', () => {
    assert.equal(quoteCommand(['k=v', 'x=y']), "'k=v' x=y");
    assert.equal(quoteCommand(['if', 'then']), "'if' then");
    assert.equal(quoteCommand(['-v', '-v']), "'-v' -v");
  });

  test('an empty argv throws', () => {
    assert.throws(() => quoteCommand([]), TypeError);
  });
});

describe('through a real shell', () => {
  for (const shell of SHELLS) {
    test(`${shell}: hostile arguments come back byte-identical (builtin printf)`, () => {
      assertSameBytes(viaShell(shell, `printf '%s\\0' ${HOSTILE.map(quoteArg).join(' ')}`), HOSTILE);
    });

    test(`${shell}: what reaches execvp after the ssh hop is identical`, () => {
      // sshd runs `$SHELL -c <the one remote string>`; the shell then execs argv[0].
      const argv = [PRINTF, '%s\\0', ...HOSTILE];
      assertSameBytes(viaShell(shell, quoteCommand(argv)), HOSTILE);
    });

    test(`${shell}: a first word that looks like an assignment, option or keyword is still run as the program`, () => {
      for (const first of ['FOO=bar', '-v', 'if']) {
        const r = spawnSync(shell, ['-c', quoteCommand([first, 'x'])], { encoding: 'utf8' });
        assert.equal(r.status, 127, `${first}: ${r.stderr}`);
      }
    });
  }
});

describe('property: any argv survives the remote shell', () => {
  const arg = fc
    .oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary-ascii', maxLength: 40 }), fc.constantFrom(...HOSTILE))
    .filter((s) => !s.includes('\0'));
  const argvArb = fc.array(arg, { minLength: 1, maxLength: 8 });

  for (const shell of SHELLS) {
    test(`${shell}: sh -c "printf '%s\\0' " + quoted`, () => {
      fc.assert(
        fc.property(argvArb, (args) => {
          assertSameBytes(viaShell(shell, `printf '%s\\0' ${args.map(quoteArg).join(' ')}`), args);
        }),
        { numRuns: 150 },
      );
    });
  }

  test('two hops: ssh remote shell, then `sh -c` inside the container', () => {
    fc.assert(
      fc.property(argvArb, (args) => {
        const inner = quoteCommand([PRINTF, '%s\\0', ...args]);
        assertSameBytes(viaShell('/bin/sh', quoteCommand(['sh', '-c', inner])), args);
      }),
      { numRuns: 150 },
    );
  });
});
