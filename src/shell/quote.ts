/**
 * POSIX shell quoting for the one place argv becomes a string: the remote command of `ssh`,
 * which the Proxmox host's login shell splits again before `execvp`. Every remote command
 * goes through `quoteCommand`; nothing else builds command strings.
 *
 * Assumes a POSIX-family login shell on the host (sh, dash, bash, zsh), as on Proxmox VE.
 */

/** Words made only of these characters mean the same bare and quoted in every POSIX shell. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Reserved words change meaning in command position; quoting them keeps them plain words. */
const RESERVED = new Set([
  '!',
  '{',
  '}',
  'case',
  'coproc',
  'do',
  'done',
  'elif',
  'else',
  'esac',
  'fi',
  'for',
  'function',
  'if',
  'in',
  'select',
  'then',
  'time',
  'until',
  'while',
  '[[',
  ']]',
]);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Quote one argument so a POSIX shell reads it back byte for byte.
 * Safe words (`pct`, `--`, `101`, `--timeout=300s`) stay bare; everything else is wrapped in
 * single quotes, with each embedded `'` written as `'\''`.
 * @throws TypeError for a NUL byte (no shell or argv can carry it) or a lone UTF-16
 * surrogate (it has no UTF-8 encoding, so the bytes would silently change).
 */
export function quoteArg(s: string): string {
  if (typeof s !== 'string') throw new TypeError(`quoteArg: expected a string, got ${typeof s}`);
  if (s.includes('\0')) throw new TypeError('quoteArg: an argument cannot contain a NUL byte');
  if (LONE_SURROGATE.test(s)) throw new TypeError('quoteArg: an argument cannot contain a lone UTF-16 surrogate');
  if (s === '') return "''";
  if (SAFE_WORD.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Join an argv into one command string for a remote POSIX shell.
 * The first word is also quoted when bare it would be a variable assignment (`k=v`), a
 * reserved word (`if`), or an option to the remote `sh -c` itself (`-x`), so the shell
 * always runs argv[0] as the program.
 */
export function quoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('quoteCommand: argv must not be empty');
  return argv
    .map((arg, i) => {
      const quoted = quoteArg(arg);
      if (i === 0 && quoted === arg && (arg.includes('=') || arg.startsWith('-') || RESERVED.has(arg))) return `'${arg}'`;
      return quoted;
    })
    .join(' ');
}
