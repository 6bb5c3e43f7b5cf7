/**
 * Problems found in an inventory file, and the one error that reports them all.
 * Format (pinned by tests): `<file>:<line>: <field>: <problem>`, or `<file>:<line>:<column>:
 * <problem>` for YAML syntax errors and `<file>:<line>: <problem>` for file-level problems;
 * the hint travels separately (InventoryError.hint).
 */
import { InventoryError } from '../domain/errors.js';
import { formatField } from './fields.js';

export interface InventoryIssue {
  /** 1-based line. */
  line: number;
  /** 1-based column, for YAML syntax errors. */
  column?: number;
  /** Field path, e.g. ['nodes', 'k3s-worker-1', 'vmid']; undefined for file-level problems. */
  path: readonly (string | number)[] | undefined;
  problem: string;
  hint: string;
}

/**
 * An inventory file with one or more problems, sorted by line. `message` and `hint` are the
 * first problem's; `detail` lists the others as `- <message>\n  <hint>` lines (the CLI always
 * prints such a list); `issues` holds all of them.
 */
export class InventoryValidationError extends InventoryError {
  constructor(
    file: string,
    readonly issues: readonly InventoryIssue[],
  ) {
    const [first, ...rest] = issues;
    if (first === undefined) throw new TypeError('InventoryValidationError needs at least one issue');
    const others = rest.map((i) => `- ${formatIssue(file, i)}\n  ${i.hint}`).join('\n');
    super(formatIssue(file, first), {
      file,
      line: first.line,
      field: first.path ? formatField(first.path) : undefined,
      hint: first.hint,
      ...(rest.length > 0 ? { detail: others } : {}),
    });
  }
}

export function formatIssue(file: string, issue: InventoryIssue): string {
  const where = issue.column === undefined ? `${file}:${issue.line}` : `${file}:${issue.line}:${issue.column}`;
  return issue.path === undefined ? `${where}: ${issue.problem}` : `${where}: ${formatField(issue.path)}: ${issue.problem}`;
}

/** Sorted by line (stable), without exact duplicates. */
export function sortIssues(issues: readonly InventoryIssue[]): InventoryIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((i) => {
    const key = `${i.line}\0${i.path?.join('\0') ?? ''}\0${i.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => a.issue.line - b.issue.line || a.index - b.index)
    .map((x) => x.issue);
}

/** A value as the user wrote it, short, for "got ..." in messages. */
export function showValue(value: unknown): string {
  let text: string;
  if (value === null) text = 'an empty value';
  else if (Array.isArray(value)) text = 'a list';
  else if (typeof value === 'object') text = 'a mapping';
  else text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
