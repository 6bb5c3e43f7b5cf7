/** The `printf` utility: %s %b %c %d %i %u %x %o %% with flags, width and precision; the format is reused while arguments remain. */
export function formatPrintf(args: readonly string[]): { out: string; error?: string } {
  const [format, ...rest] = args;
  if (format === undefined) return { out: '', error: 'usage: printf format [arg ...]' };
  let out = '';
  let argi = 0;
  for (;;) {
    const start = argi;
    let i = 0;
    while (i < format.length) {
      const c = format[i] ?? '';
      if (c === '\\') {
        const [text, len] = escapeAt(format, i);
        out += text;
        i += len;
        continue;
      }
      if (c !== '%') {
        out += c;
        i++;
        continue;
      }
      const m = /^%([-+ 0#]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/.exec(format.slice(i));
      if (!m) return { out, error: `${format.slice(i, i + 2)}: invalid directive` };
      i += m[0].length;
      const conv = m[4] ?? '';
      if (conv === '%') {
        out += '%';
        continue;
      }
      const width = m[2] === '*' ? Number(rest[argi++] ?? 0) : m[2] === undefined ? 0 : Number(m[2]);
      const prec = m[3] === '*' ? Number(rest[argi++] ?? 0) : m[3] === undefined ? undefined : Number(m[3]);
      const arg = rest[argi++];
      let text: string;
      switch (conv) {
        case 's':
          text = arg ?? '';
          if (prec !== undefined) text = text.slice(0, prec);
          break;
        case 'b':
          text = (arg ?? '').replace(/\\./g, (e) => escapeAt(e, 0)[0]);
          break;
        case 'c':
          text = (arg ?? '').slice(0, 1);
          break;
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
          const s = arg ?? '0';
          const n = /^[-+]?\d+$/.test(s) ? Number(s) : /^'./.test(s) ? s.charCodeAt(1) : NaN;
          if (Number.isNaN(n)) return { out, error: `${s}: expected numeric value` };
          text =
            conv === 'x'
              ? n.toString(16)
              : conv === 'X'
                ? n.toString(16).toUpperCase()
                : conv === 'o'
                  ? n.toString(8)
                  : String(Math.trunc(n));
          break;
        }
        default:
          return { out, error: `%${conv}: invalid directive` };
      }
      const flags = m[1] ?? '';
      if (text.length < width) {
        const pad = (flags.includes('0') && !flags.includes('-') && conv !== 's' ? '0' : ' ').repeat(width - text.length);
        text = flags.includes('-') ? text + pad : pad + text;
      }
      out += text;
    }
    if (argi >= rest.length || argi === start) return { out };
  }
}

function escapeAt(s: string, i: number): [string, number] {
  const n = s[i + 1] ?? '';
  const simple: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    '\\': '\\',
    '"': '"',
    "'": "'",
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
  };
  const v = simple[n];
  if (v !== undefined) return [v, 2];
  const oct = /^0?[0-7]{1,3}/.exec(s.slice(i + 1));
  if (oct) return [String.fromCharCode(parseInt(oct[0], 8)), 1 + oct[0].length];
  return ['\\', 1];
}
