// Deletes compiled files in dist/ whose source is gone (tsc never removes the output of a moved
// or deleted file), so `npm pack` ships only what the sources build. Run by `prepack`.
import { readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const OUTPUT = /\.(?:d\.ts|js)(?:\.map)?$/;
let removed = 0;
function prune(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      prune(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
    } else if (OUTPUT.test(name)) {
      const source = p.replace(/^dist[\\/]/, '').replace(OUTPUT, '.ts');
      if (!existsSync(source)) {
        rmSync(p);
        removed++;
      }
    }
  }
}
if (existsSync('dist')) prune('dist');
if (removed > 0) console.log(`prune-dist: removed ${removed} stale file(s)`);
