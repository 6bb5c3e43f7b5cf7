/** Writes `pct`/`pvesh` wrapper scripts that run the lab shim, so a real shell can drive the lab. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from './lab.js';
import { UsageError } from '../domain/errors.js';

/** How to start the shim: the compiled dist/src/lab/shim.js, or (in a source checkout without a build) tsx. */
export function shimCommand(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const sibling = path.join(here, 'shim.js');
  if (fs.existsSync(sibling)) return [process.execPath, sibling];
  const root = path.resolve(here, '..', '..');
  const compiled = path.join(root, 'dist', 'src', 'lab', 'shim.js');
  if (fs.existsSync(compiled)) return [process.execPath, compiled];
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  return [process.execPath, '--import', `file://${tsx}`, path.join(here, 'shim.ts')];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Creates `binDir/pct` and `binDir/pvesh` for lab host `host`; returns their paths. */
export function installShims(lab: Lab, binDir: string, host: string): string[] {
  if (!lab.hosts().includes(host)) throw new UsageError(`lab ${lab.dir} has no host "${host}"`);
  fs.mkdirSync(binDir, { recursive: true });
  const cmd = shimCommand().map(q).join(' ');
  return ['pct', 'pvesh'].map((prog) => {
    const file = path.join(binDir, prog);
    fs.writeFileSync(file, `#!/bin/sh\n# pve-k3s lab shim for host ${host}\nexec ${cmd} ${q(lab.dir)} ${q(host)} ${prog} "$@"\n`, {
      mode: 0o755,
    });
    return file;
  });
}
