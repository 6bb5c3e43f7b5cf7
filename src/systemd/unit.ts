/**
 * systemd unit files as data: rendering (with ExecStart= quoting per systemd.service(5)) and a
 * small reader of `[Section]` / `Key=Value` files. Pure.
 */

import { UsageError } from '../domain/errors.js';

export type UnitSections = Array<[section: string, entries: Array<[key: string, value: string]>]>;

/**
 * One ExecStart= word: bare when it is plain, else double-quoted with `\` and `"` escaped.
 * `%` is a specifier and `$` an environment expansion in ExecStart=, so both are doubled.
 */
export function quoteExecWord(word: string): string {
  if (/[\n\r\0]/.test(word))
    throw new UsageError(`a unit file cannot hold "${word.replace(/[\n\r\0]/g, '?')}": it contains a newline or NUL`);
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function execLine(argv: readonly string[]): string {
  return argv.map(quoteExecWord).join(' ');
}

/** A value for a plain setting (Description=...): one line, `%` doubled. */
export function unitValue(v: string): string {
  if (/[\n\r\0]/.test(v)) throw new UsageError(`a unit file cannot hold "${v.replace(/[\n\r\0]/g, '?')}": it contains a newline or NUL`);
  return v.replace(/%/g, '%%');
}

export function renderUnitFile(header: string, sections: UnitSections): string {
  const out: string[] = header ? header.split('\n').map((l) => `# ${l}`.trimEnd()) : [];
  for (const [name, entries] of sections) {
    if (out.length) out.push('');
    out.push(`[${name}]`);
    for (const [k, v] of entries) out.push(`${k}=${v}`);
  }
  return out.join('\n') + '\n';
}

/** Reads a unit file: section -> key -> values in order (comments, blank lines and continuations handled). */
export function parseUnitFile(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let cur: Map<string, string[]> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[([^\]]+)\]$/.exec(line);
    if (s) {
      cur = out.get(s[1] ?? '') ?? new Map();
      out.set(s[1] ?? '', cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !cur) continue;
    const k = line.slice(0, eq).trim();
    const v = line.slice(eq + 1).trim();
    cur.set(k, [...(cur.get(k) ?? []), v]);
  }
  return out;
}
