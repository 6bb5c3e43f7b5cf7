/**
 * The import graph of src/: every relative import of every .ts file, resolved to a file, and
 * grouped by folder ("module": the first folder under src/, or two for upgrade/). Used by the
 * layering test and by `node dist/test/architecture/import-graph.js` to print the graph.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface ImportGraph {
  /** file (relative to src, e.g. `upgrade/run/steps.ts`) -> files it imports */
  files: Map<string, Set<string>>;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Reads src/ under `srcDir`. Type-only imports count too: they tie the layers as much as values do. */
export function readImportGraph(srcDir: string): ImportGraph {
  const files = new Map<string, Set<string>>();
  for (const abs of walk(srcDir)) {
    const text = readFileSync(abs, 'utf8');
    const deps = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec) continue;
      const target = resolve(dirname(abs), spec).replace(/\.js$/, '.ts');
      deps.add(relative(srcDir, target).split('\\').join('/'));
    }
    files.set(relative(srcDir, abs).split('\\').join('/'), deps);
  }
  return { files };
}

/** The module a file belongs to: `domain`, `shell`, `upgrade/run`, ... (top-level files: `.`). */
export function moduleOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return '.';
  if (parts[0] === 'upgrade' && parts.length > 2) return `upgrade/${parts[1]}`;
  return parts[0]!;
}

export function moduleGraph(g: ImportGraph): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [file, deps] of g.files) {
    const from = moduleOf(file);
    const set = out.get(from) ?? new Set<string>();
    out.set(from, set);
    for (const d of deps) {
      const to = moduleOf(d);
      if (to !== from) set.add(to);
    }
  }
  return out;
}

/** Strongly connected components with more than one member (Tarjan): each is an import cycle. */
export function cycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]).endsWith(join('architecture', 'import-graph.js'))) {
  const g = readImportGraph(resolve(process.argv[2] ?? 'src'));
  const mods = moduleGraph(g);
  for (const [m, deps] of [...mods].sort()) console.log(`${m} -> ${[...deps].sort().join(', ')}`);
  console.log('module cycles:', JSON.stringify(cycles(mods)));
  console.log('file cycles:', JSON.stringify(cycles(g.files)));
}
