import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSh, runShProgram, type ShExec, type ShHost } from '../../src/lab/sh.js';

/** A tiny machine: files in a map, `cat`, `upper` (stdin to upper case) and `args` (prints its argv) on /bin. */
function memHost(files: Record<string, string> = {}): ShHost & { files: Record<string, string> } {
  const host = {
    files,
    async exec({ argv, env, stdin }: ShExec) {
      const [cmd, ...args] = argv;
      if (cmd === 'cat')
        return args.length === 0
          ? { code: 0, stdout: stdin, stderr: '' }
          : { code: 0, stdout: args.map((a) => files[a] ?? '').join(''), stderr: '' };
      if (cmd === 'upper') return { code: 0, stdout: stdin.toUpperCase(), stderr: '' };
      if (cmd === 'args') return { code: 0, stdout: `${args.map((a) => `<${a}>`).join('')}\n`, stderr: '' };
      if (cmd === 'env')
        return {
          code: 0,
          stdout: Object.entries(env)
            .map(([k, v]) => `${k}=${v}\n`)
            .sort()
            .join(''),
          stderr: '',
        };
      if (cmd === 'fail') return { code: 3, stdout: '', stderr: 'failed\n' };
      if (cmd === 'sh') return runShProgram(host, { argv, env, stdin });
      return { code: 127, stdout: '', stderr: `${cmd}: not found\n` };
    },
    which: (name: string) => (['cat', 'upper', 'args', 'env', 'fail', 'sh'].includes(name) ? `/bin/${name}` : undefined),
    readFile: (p: string) => (p in files ? { content: files[p] ?? '' } : { error: 'No such file' }),
    writeFile: (p: string, c: string, append: boolean) => {
      if (p.startsWith('/nodir/')) return 'Directory nonexistent';
      files[p] = (append ? (files[p] ?? '') : '') + c;
      return undefined;
    },
    fileTest: (op: string, p: string) => (op === '-d' ? p === '/' : p in files),
  };
  return host;
}
const env = { PATH: '/bin' };
const sh = (script: string, stdin = '', host = memHost()) => runSh(script, host, { env, stdin });

test('GIVEN ; && || WHEN run THEN short-circuit like sh and $? is the last status', async () => {
  const r = await sh('echo a; false && echo b || echo c; fail; echo "s=$?"');
  assert.deepEqual(r, { code: 0, stdout: 'a\nc\ns=3\n', stderr: 'failed\n' });
});

test('GIVEN quotes and escapes WHEN expanded THEN words are split only where unquoted', async () => {
  const r = await sh(`X='a  b'; args $X "$X" 'it''s' "q\\"uote" \\$X a\\ b`);
  assert.equal(r.stdout, '<a><b><a  b><its><q"uote><$X><a b>\n');
});

test('GIVEN ${VAR} forms WHEN expanded THEN defaults and alternatives apply', async () => {
  const r = await sh('A=1; args "${A}x" "${B:-def}" "${A:+alt}" "${B-}" "${#A}"; : ${C:=set}; echo $C');
  assert.equal(r.stdout, '<1x><def><alt><><1>\nset\n');
});

test('GIVEN a pipeline WHEN run THEN stdout flows into the next stdin', async () => {
  const r = await sh('printf "%s-%s\\n" a b c | upper | cat');
  assert.equal(r.stdout, 'A-B\nC-\n');
});

test('GIVEN export and prefix assignments WHEN a program runs THEN only exported vars reach it', async () => {
  const r = await sh('HIDDEN=1; export SHOWN=2; export LATER; LATER=3; ONE=x env');
  assert.equal(r.stdout, 'LATER=3\nONE=x\nPATH=/bin\nSHOWN=2\n');
});

test('GIVEN set -e WHEN a command fails outside a condition THEN the script stops with its status', async () => {
  assert.deepEqual(await sh('set -e; fail || true; echo ok; fail; echo never'), { code: 3, stdout: 'ok\n', stderr: 'failed\nfailed\n' });
});

test('GIVEN set -u WHEN an unset variable is used THEN it is an error (exit 2)', async () => {
  const r = await sh('set -eu\necho $NOPE\necho never');
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'sh: 2: NOPE: parameter not set\n');
});

test('GIVEN redirections WHEN run THEN files, 2>&1, /dev/null and < work', async () => {
  const host = memHost({ '/in': 'from file\n' });
  const r = await sh('echo one > /f; echo two >> /f; fail 2>/dev/null; fail 2>&1 | upper; cat < /in; echo x >/dev/null', '', host);
  assert.equal(host.files['/f'], 'one\ntwo\n');
  assert.equal(r.stdout, 'FAILED\nfrom file\n');
  assert.equal(r.stderr, '');
  const bad = await sh('echo x > /nodir/f', '', host);
  assert.deepEqual(bad, { code: 2, stdout: '', stderr: 'sh: 1: cannot create /nodir/f: Directory nonexistent\n' });
});

test('GIVEN command substitution WHEN used THEN its output (trailing newlines cut) is the value', async () => {
  assert.equal((await sh('V=$(echo hi; echo there); args "$V" $(echo a b)')).stdout, '<hi\nthere><a><b>\n');
});

test('GIVEN background jobs WHEN waited THEN all ran', async () => {
  assert.equal((await sh('echo a & echo b & wait; echo done')).stdout, 'a\nb\ndone\n');
});

test('GIVEN exit N, comments and printf WHEN run THEN exit status and output are exact', async () => {
  const r = await sh('# comment\nprintf "%-6s|%3d|%%\\n" ab 7 # trailing\nexit 4\necho never');
  assert.deepEqual(r, { code: 4, stdout: 'ab    |  7|%\n', stderr: '' });
});

test("GIVEN an unknown program WHEN run THEN 127 and dash's message", async () => {
  assert.deepEqual(await sh('true\nnosuch arg'), { code: 127, stdout: '', stderr: 'sh: 2: nosuch: not found\n' });
});

test('GIVEN unsupported syntax WHEN parsed THEN exit 2 with a clear message and nothing runs', async () => {
  for (const [script, what] of [
    ['echo a\nif true; then echo b; fi', '"if" (compound commands)'],
    ['cat <<EOF\nx\nEOF', 'here-documents (<<)'],
    ['echo `date`', 'backquote command substitution (use $(...))'],
    ['echo $((1+2))', 'arithmetic expansion $((...))'],
    ['ls *.txt', 'globbing ("*"); quote the word'],
    ['f() { :; }', 'function definitions'],
  ] as const) {
    const r = await sh(script);
    assert.equal(r.code, 2, script);
    assert.equal(r.stdout, '', script);
    assert.match(r.stderr, new RegExp(`^sh: \\d+: lab sh does not support ${what.replace(/[()$.*?"[\]]/g, '\\$&')}\\n$`), script);
  }
  const r = await sh('echo "open');
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'sh: 1: Syntax error: Unterminated quoted string\n' });
  assert.equal((await sh('&& echo')).stderr, 'sh: 1: Syntax error: "&&" unexpected\n');
});

test('GIVEN a subshell WHEN run THEN its variables, set -e and exit stay inside and its redirections apply to all of it', async () => {
  const host = memHost();
  const r = await sh(
    'x=1; ( x=2; echo in $x; exit 3 ); echo out $x $?; ( set -e; fail; echo never ) 2>&1; echo after $?; ( eval "$(printf \'echo a\\necho b\')" ) </dev/null >/f; cat /f',
    '',
    host,
  );
  assert.deepEqual(r, { code: 0, stdout: 'in 2\nout 1 3\nfailed\nafter 3\na\nb\n', stderr: '' });
  assert.equal((await sh('(echo a) b')).stderr, 'sh: 1: Syntax error: word unexpected (expecting ")")\n');
  assert.equal((await sh('(echo a')).code, 2);
});

test('GIVEN test and [ WHEN evaluated THEN string, integer and file tests work', async () => {
  const host = memHost({ '/etc/x': '1' });
  const r = await sh(
    '[ -f /etc/x ] && echo f; test -e /nope || echo nope; [ 3 -gt 2 ] && echo gt; [ a = b ] || echo ne; [ -n "" ] || echo empty',
    '',
    host,
  );
  assert.equal(r.stdout, 'f\nnope\ngt\nne\nempty\n');
  assert.equal((await sh('[ 1 = 1')).code, 2);
});

test('GIVEN sh -c and sh -s WHEN run THEN positional parameters and stdin scripts work', async () => {
  const host = memHost();
  const c = await runShProgram(host, { argv: ['sh', '-c', 'args "$0" "$@" $#', 'name', 'x y', 'z'], env, stdin: '' });
  assert.equal(c.stdout, '<name><x y><z><2>\n');
  const s = await runShProgram(host, { argv: ['sh', '-s', '-', 'a1', 'a2'], env, stdin: 'echo "$1 $2"' });
  assert.equal(s.stdout, 'a1 a2\n');
  const pipe = await sh('echo "echo from stdin \\$1" | sh -s - arg');
  assert.equal(pipe.stdout, 'from stdin arg\n');
});

// The four places where the lab's sh once differed from dash without a word (issue 13).
test('GIVEN `a=1 b=$a` WHEN run THEN b sees a, as dash: alone they stay, before a command only for it, before a special built-in they stay', async () => {
  assert.equal((await sh('a=1 b=$a; echo "[$b]"')).stdout, '[1]\n');
  assert.equal((await sh('a=1 b=$a env; echo "[$a][$b]"')).stdout, 'PATH=/bin\na=1\nb=1\n[][]\n');
  assert.equal((await sh('a=1 :; b=2 true; echo "[$a][$b]"')).stdout, '[1][]\n');
});

test("GIVEN background jobs WHEN `wait` runs THEN it returns 0; `wait $!` returns that job's status, an unknown pid 127", async () => {
  assert.equal((await sh('fail 2>/dev/null & wait; echo $?')).stdout, '0\n');
  assert.equal((await sh('(exit 3) & p=$!; true & wait $p; echo $?; wait 1; echo $?')).stdout, '3\n127\n');
});

test("GIVEN two shells WHEN `$$` is read THEN each has its own pid, and a subshell keeps its parent's", async () => {
  const a = (await sh('echo $$; (echo $$)')).stdout.split('\n');
  const b = (await sh('echo $$')).stdout.trim();
  assert.match(a[0]!, /^\d+$/);
  assert.equal(a[1], a[0]);
  assert.notEqual(b, a[0]);
});

test('GIVEN a program that writes stderr before stdout WHEN run with 2>&1 THEN the order is kept', async () => {
  const host = memHost();
  const exec = host.exec.bind(host);
  host.exec = async (run) =>
    run.argv[0] === 'both'
      ? {
          code: 0,
          stdout: 'out\n',
          stderr: 'err\n',
          writes: [
            [2, 'err\n'],
            [1, 'out\n'],
          ],
        }
      : exec(run);
  host.which = (name: string) => `/bin/${name}`;
  assert.equal((await sh('both 2>&1 | cat', '', host)).stdout, 'err\nout\n');
  assert.deepEqual(await sh('both', '', host), { code: 0, stdout: 'out\n', stderr: 'err\n' });
});

test('GIVEN set -u WHEN ${#x} reads an unset x THEN it fails as dash does (found by the conformance test)', async () => {
  assert.deepEqual(await sh('set -u\necho ${#x}\necho never'), { code: 2, stdout: '', stderr: 'sh: 2: x: parameter not set\n' });
});
