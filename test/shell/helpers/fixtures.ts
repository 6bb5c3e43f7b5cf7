/** Tiny fixture programs written to a temp dir at test time (tests run from dist/, so no copies). */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FixtureDir {
  dir: string;
  add(name: string, body: string, mode?: number): string;
  remove(): void;
}

export function fixtureDir(prefix = 'pve-k3s-fx-'): FixtureDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    add(name, body, mode = 0o755) {
      const p = join(dir, name);
      writeFileSync(p, body.startsWith('#!') ? body : `#!/bin/sh\n${body}\n`);
      chmodSync(p, mode);
      return p;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Split NUL-terminated output back into an argv. */
export function splitNul(s: string): string[] {
  const parts = s.split('\0');
  if (parts.pop() !== '') throw new Error(`output is not NUL-terminated: ${JSON.stringify(s)}`);
  return parts;
}
