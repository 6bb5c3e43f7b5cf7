#!/usr/bin/env node
/**
 * A program of the lab's model run from a real root (see ct-root.ts): `kubectl`, `k3s`,
 * `systemctl`, `curl`, `sqlite3`, `findmnt`, `mount`, `df`, `stat` and the lab's install hook
 * start this with the path they were run as (`$0`) and their arguments. It syncs the root
 * into the lab's state, runs the model's program for that path in that container (the same
 * code the in-process lab runs: src/lab/container-exec.ts), syncs back, and exits with its
 * status. Which container: the root's ref file; the lab: bound at a fixed path in the root.
 */
import { readFileSync } from 'node:fs';
import { execInContainer } from '../../../src/lab/container-exec.js';
import { findContainer } from '../../../src/lab/k3s-model.js';
import { openLab } from '../../../src/lab/lab.js';
import { INSIDE, syncRoot } from './ct-root.js';
import type { Lab } from '../../../src/lab/lab.js';

/** kubectl reads stdin only for `-f -` (apply, create, replace); others must not wait for an EOF. */
function readsStdin(args: readonly string[]): boolean {
  return args.some((a, i) => a === '--filename=-' || a === '-f=-' || ((a === '-f' || a === '--filename') && args[i + 1] === '-'));
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const c of process.stdin) text += (c as Buffer).toString('utf8');
  return text;
}

export function syncContainer(lab: Lab, host: string, vmid: number, rootDir: string): void {
  lab.update((s) => {
    const loc = findContainer(s, host, vmid);
    if (loc) syncRoot(rootDir, loc.ct.fs);
  });
}

async function main(argv: string[]): Promise<number> {
  const [path, ...args] = argv;
  if (path === undefined) {
    process.stderr.write('usage: lab-program <path> [args...]\n');
    return 2;
  }
  const [host, vmidText] = readFileSync(INSIDE.ref, 'utf8').trim().split(' ');
  if (host === undefined || vmidText === undefined) throw new Error(`${INSIDE.ref}: no "<host> <vmid>" line`);
  const vmid = Number(vmidText);
  const lab = await openLab(INSIDE.lab);
  const stdin = readsStdin(args) ? await readStdin() : '';
  syncContainer(lab, host, vmid, INSIDE.root);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  // A model program may block forever (a unit that never comes up): keep the process alive as the real one would.
  const alive = setInterval(() => {}, 1 << 30);
  const r = await execInContainer(lab.context(), { host, vmid }, { argv: [path, ...args], env, stdin, via: 'sh' });
  clearInterval(alive);
  syncContainer(lab, host, vmid, INSIDE.root);
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`pve-k3s e2e lab program: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 255;
  },
);
