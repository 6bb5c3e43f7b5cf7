import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether tests run from test/ (tsx) or from dist/test/ (compiled). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test helpers');
    dir = up;
  }
  return dir;
}

/** Reads a file of test/fixtures (copies of real-shaped outputs, see its README). */
export function fixture(name: string): string {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', name), 'utf8');
}
