/**
 * Ansible's INI inventory: `[group]` host lines with `key=value` vars, `[group:vars]`,
 * `[group:children]`, numeric ranges `node[01:03]`, `#`/`;` comments. Problems name the line.
 */
import type { InventoryIssue } from '../inventory/issues.js';
import { addHost, emptyInventory, ensureGroup, type AnsibleInventory } from './model.js';
import { splitWords, UnclosedQuoteError } from '../domain/text.js';

export function parseIni(text: string, file: string): { inventory: AnsibleInventory; issues: InventoryIssue[] } {
  const inv = emptyInventory(file, 'ini');
  const issues: InventoryIssue[] = [];
  let section: { group: string; kind: 'hosts' | 'vars' | 'children' } = { group: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith('#') || text.startsWith(';')) return;
    if (text.startsWith('[')) {
      const m = /^\[([^\]:\s]+)(?::([^\]\s]+))?\]\s*(?:[#;].*)?$/.exec(text);
      if (!m)
        return issues.push({
          line,
          path: undefined,
          problem: `malformed section header ${JSON.stringify(text)}`,
          hint: 'Write [group], [group:vars] or [group:children].',
        });
      const kind = m[2] === undefined ? 'hosts' : m[2];
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        return issues.push({
          line,
          path: undefined,
          problem: `unknown section type ":${kind}" in [${m[1]}:${kind}]`,
          hint: 'Ansible knows [group], [group:vars] and [group:children].',
        });
      }
      section = { group: m[1]!, kind };
      ensureGroup(inv, section.group, line);
      return;
    }
    const words = hostLineWords(text);
    if ('error' in words)
      return issues.push({ line, path: undefined, problem: words.error, hint: 'Close the quote, or remove the stray character.' });
    const [first, ...rest] = words.words;
    if (first === undefined) return;
    const g = ensureGroup(inv, section.group, line);
    if (section.kind === 'children') {
      if (rest.length > 0)
        return issues.push({
          line,
          path: undefined,
          problem: `a [${section.group}:children] line names one group, got ${JSON.stringify(text)}`,
          hint: 'Put each child group on its own line.',
        });
      if (!g.children.includes(first)) g.children.push(first);
      return;
    }
    if (section.kind === 'vars') {
      const kv = keyValue(text);
      if (!kv)
        return issues.push({
          line,
          problem: `expected key=value in [${section.group}:vars], got ${JSON.stringify(text)}`,
          hint: 'Write one variable per line: name=value.',
          path: ['vars'],
        });
      g.vars.set(kv.key, { value: kv.value, line });
      return;
    }
    const names = expandRange(first);
    if (names === undefined)
      return issues.push({
        line,
        path: undefined,
        problem: `bad host range ${JSON.stringify(first)}`,
        hint: 'A range is [start:end], e.g. node[01:03] or node[a:c].',
      });
    for (const name of names) {
      const h = addHost(inv, name, line);
      if (!g.hosts.includes(name)) g.hosts.push(name);
      for (const w of rest) {
        const kv = keyValue(w);
        if (!kv) {
          issues.push({
            line,
            problem: `host ${name}: expected key=value, got ${JSON.stringify(w)}`,
            hint: 'Host variables are written name=value after the host.',
            path: [name],
          });
          continue;
        }
        h.vars.set(kv.key, { value: kv.value, line });
      }
    }
  });
  // An empty group named in [x:children] but never declared is still a group for Ansible.
  for (const g of [...inv.groups.values()]) for (const c of g.children) ensureGroup(inv, c, g.line);
  return { inventory: inv, issues };
}

/** Splits on blanks outside quotes; quotes stay in the words (keyValue strips them); `#` starts a comment. */
function hostLineWords(text: string): { words: string[] } | { error: string } {
  try {
    return { words: splitWords(text, { keepQuotes: true, comments: true }) };
  } catch (err) {
    if (err instanceof UnclosedQuoteError) return { error: `unclosed ${err.quote} quote` };
    throw err;
  }
}

function keyValue(word: string): { key: string; value: unknown } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(word.trim());
  if (!m) return undefined;
  const v = m[2]!.trim();
  if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2))
    return { key: m[1]!, value: v.slice(1, -1) };
  // Ansible evaluates host-line values as Python literals: numbers and booleans.
  if (/^-?\d+$/.test(v)) return { key: m[1]!, value: Number(v) };
  if (v === 'True' || v === 'true') return { key: m[1]!, value: true };
  if (v === 'False' || v === 'false') return { key: m[1]!, value: false };
  return { key: m[1]!, value: v };
}

/** `node[01:03]` -> node01..node03, `x[a:c]` -> xa..xc; undefined for a malformed range. */
export function expandRange(name: string): string[] | undefined {
  const m = /^(.*)\[([^\]:]+):([^\]:]+)(?::(\d+))?\](.*)$/.exec(name);
  if (!m) return name.includes('[') || name.includes(']') ? undefined : [name];
  const [, pre, a, b, stepText, post] = m as unknown as [string, string, string, string, string | undefined, string];
  const step = stepText === undefined ? 1 : Number(stepText);
  const out: string[] = [];
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const width = a.length > 1 && a.startsWith('0') ? a.length : 0;
    for (let n = Number(a); n <= Number(b) && step > 0; n += step) out.push(`${pre}${String(n).padStart(width, '0')}${post}`);
  } else if (/^[a-z]$/.test(a) && /^[a-z]$/.test(b)) {
    for (let c = a.charCodeAt(0); c <= b.charCodeAt(0) && step > 0; c += step) out.push(`${pre}${String.fromCharCode(c)}${post}`);
  } else return undefined;
  return out.length > 0 && out.length <= 10_000 ? out.flatMap((n) => expandRange(n) ?? [n]) : undefined;
}
