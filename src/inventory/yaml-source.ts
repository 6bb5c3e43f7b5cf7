/**
 * The YAML side of parsing: syntax errors with line and column, duplicate keys with their
 * field path, and the way back from a field path to the line that holds it.
 */
import type { Document, LineCounter, Node as YamlNode, ParsedNode } from 'yaml';
import { yamlLib } from './deps.js';
import type { InventoryIssue } from './issues.js';

export type Path = readonly (string | number)[];

export interface YamlSource {
  doc: Document.Parsed<ParsedNode>;
  lines: LineCounter;
}

export function parseYaml(text: string): { source: YamlSource; issues: InventoryIssue[] } {
  const Y = yamlLib();
  const lines = new Y.LineCounter();
  // Duplicate keys are found by findDuplicateKeys, which can name the field path.
  const doc = Y.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const issues = doc.errors.map((e): InventoryIssue => {
    const { line, col } = lines.linePos(e.pos[0]);
    const problem =
      e.code === 'MULTIPLE_DOCS'
        ? 'YAML syntax error: the file holds several documents (---); an inventory is one document'
        : `YAML syntax error: ${e.message}`;
    return { line, column: col, path: undefined, problem, hint: 'Fix the YAML syntax at this position.' };
  });
  return { source: { doc, lines }, issues };
}

/** A mapping key as text (the same text the parsed object uses as property name). */
export function keyText(key: unknown): string {
  const Y = yamlLib();
  if (Y.isScalar(key)) return key.value === null || key.value === undefined ? '' : String(key.value);
  return String(key);
}

export function findDuplicateKeys(source: YamlSource): InventoryIssue[] {
  const Y = yamlLib();
  const issues: InventoryIssue[] = [];
  const visit = (node: unknown, path: Path): void => {
    if (Y.isMap(node)) {
      const firstLine = new Map<string, number>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        const line = lineOfNode(source, pair.key) ?? lineOfNode(source, node) ?? 1;
        const earlier = firstLine.get(key);
        if (earlier === undefined) {
          firstLine.set(key, line);
          visit(pair.value, [...path, key]);
        } else {
          issues.push({
            line,
            path: [...path, key],
            problem: `duplicate key (first at line ${earlier})`,
            hint: 'Remove one of the two entries, or rename it.',
          });
        }
      }
    } else if (Y.isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    }
  };
  visit(source.doc.contents, []);
  return issues;
}

/**
 * The line of the field at `path`: its value, or its key when `at` is 'key' or the value is
 * empty. When the path does not exist (a missing key), the line of the deepest mapping on it.
 */
export function lineOf(source: YamlSource, path: Path, at: 'key' | 'value' = 'value'): number {
  const Y = yamlLib();
  let node: unknown = source.doc.contents;
  let line = lineOfNode(source, node) ?? 1;
  for (let i = 0; i < path.length; i++) {
    if (Y.isAlias(node)) node = node.resolve(source.doc);
    const seg = path[i];
    let next: unknown;
    let keyNode: unknown;
    if (Y.isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair === undefined) return line;
      keyNode = pair.key;
      next = pair.value;
    } else if (Y.isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    } else {
      return line;
    }
    const keyLine = keyNode === undefined ? undefined : lineOfNode(source, keyNode);
    const last = i === path.length - 1;
    if (last && at === 'key' && keyLine !== undefined) return keyLine;
    const valueLine = lineOfNode(source, next);
    if (valueLine === undefined) return keyLine ?? line;
    line = valueLine;
    node = next;
  }
  return line;
}

/** The keys of the mapping at `path` in file order (parsed objects reorder numeric keys). */
export function keysInOrder(source: YamlSource, path: Path): string[] {
  const Y = yamlLib();
  let node: unknown = source.doc.contents;
  for (const seg of path) {
    if (Y.isAlias(node)) node = node.resolve(source.doc);
    if (!Y.isMap(node)) return [];
    node = node.items.find((p) => keyText(p.key) === String(seg))?.value;
  }
  if (Y.isAlias(node)) node = node.resolve(source.doc);
  return Y.isMap(node) ? node.items.map((p) => keyText(p.key)) : [];
}

function lineOfNode(source: YamlSource, node: unknown): number | undefined {
  const range = (node as YamlNode | null | undefined)?.range;
  return range ? source.lines.linePos(range[0]).line : undefined;
}
