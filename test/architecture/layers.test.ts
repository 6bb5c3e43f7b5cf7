// The folder rule of docs/architecture.md, checked on the source tree: no import cycle between
// modules, the domain imports nothing of ours, each module only imports modules below it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { cycles, moduleGraph, readImportGraph } from './import-graph.js';

const src = resolve('src');

/** What each module may import (besides itself). Read bottom-up: the ground floor first. */
const ALLOWED: Record<string, readonly string[]> = {
  domain: [],
  systemd: ['domain'],
  shell: ['domain'],
  inventory: ['domain'],
  channel: ['domain'],
  proxmox: ['domain', 'shell'],
  k3s: ['domain', 'shell', 'inventory'],
  kube: ['domain', 'shell', 'inventory', 'proxmox'],
  status: ['domain', 'systemd'],
  lab: ['domain', 'shell', 'systemd'],
  operation: ['domain', 'shell', 'inventory', 'proxmox', 'kube'],
  'upgrade/facts': ['domain', 'shell', 'inventory', 'proxmox', 'kube', 'discover'],
  'upgrade/policy': ['domain', 'shell', 'inventory', 'proxmox', 'kube', 'k3s'],
  'upgrade/plan': ['domain', 'inventory', 'proxmox', 'channel', 'operation', 'upgrade/facts', 'upgrade/policy'],
  'upgrade/suc': ['domain', 'shell', 'inventory', 'proxmox', 'kube', 'k3s', 'operation', 'upgrade/plan', 'upgrade/policy', 'upgrade/run'],
  'upgrade/run': ['domain', 'shell', 'inventory', 'proxmox', 'kube', 'k3s', 'operation', 'upgrade/plan', 'upgrade/policy'],
  install: ['domain', 'shell', 'inventory', 'proxmox', 'kube', 'k3s', 'upgrade/run'],
  backup: ['domain', 'shell', 'inventory', 'proxmox', 'kube', 'systemd'],
  doctor: ['domain', 'shell', 'inventory', 'proxmox', 'kube', 'status', 'upgrade/policy'],
  discover: ['domain', 'shell', 'inventory', 'proxmox', 'kube'],
  import: ['domain', 'inventory'],
  monitoring: [],
};

/**
 * Edges that break the rule and are being removed. Each one listed here must still exist, so this
 * list can only shrink. Empty: the lab plugs in through a shell provider (shell/provider.ts), so
 * neither operation/ nor discover/ imports it.
 */
const KNOWN: readonly string[] = [];

test('no import cycle between modules', () => {
  assert.deepEqual(cycles(moduleGraph(readImportGraph(src))), []);
});

test('no import cycle between files either (a type-only import counts: the two files cannot be read apart)', () => {
  assert.deepEqual(cycles(readImportGraph(src).files), []);
});

test('every module imports only the modules below it', () => {
  const bad: string[] = [];
  const seenKnown = new Set<string>();
  for (const [from, deps] of moduleGraph(readImportGraph(src))) {
    const allowed = ALLOWED[from];
    if (allowed === undefined) continue; // cli and the top level may import anything
    for (const to of deps) {
      const edge = `${from} -> ${to}`;
      if (allowed.includes(to)) continue;
      if (KNOWN.includes(edge)) seenKnown.add(edge);
      else bad.push(edge);
    }
  }
  assert.deepEqual(bad, [], 'imports against the layering (see docs/architecture.md)');
  assert.deepEqual([...seenKnown].sort(), [...KNOWN].sort(), 'a known exception is gone: remove it from KNOWN');
});

test('every module of src/ has a place in the layering', () => {
  const mods = [...moduleGraph(readImportGraph(src)).keys()].filter((m) => m !== 'cli' && m !== '.');
  assert.deepEqual(
    mods.filter((m) => !(m in ALLOWED)),
    [],
  );
});

test('the cycle finder finds a cycle', () => {
  const g = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c'])],
    ['c', new Set(['a'])],
    ['d', new Set(['a'])],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c']]);
});
