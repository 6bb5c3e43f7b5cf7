/** The k3s model's transitions call the hooks they are given: a server's start and stop, never an agent's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findContainer, startService, stopService, bootContainer, type ServiceHooks } from '../../src/lab/k3s-model.js';
import { makeLab } from './helpers.js';

function recorder(): { hooks: ServiceHooks; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    hooks: {
      serverStarted: (_s, loc) => calls.push(`started ${loc.ct.hostname}`),
      serverStopping: (_s, ct) => calls.push(`stopping ${ct.hostname}`),
    },
  };
}

test('GIVEN recording hooks WHEN services start, stop and boot THEN only a k3s server fires them, a stop only when it ran', async () => {
  const lab = await makeLab();
  const { hooks, calls } = recorder();
  lab.update((s) => {
    const ctrl = findContainer(s, 'pve1', 100)!;
    const worker = findContainer(s, 'pve1', 101)!;
    startService(s, worker, { service: 'k3s-agent', now: 1, hooks });
    stopService(s, worker.ct, { service: 'k3s-agent', hooks });
    startService(s, ctrl, { service: 'k3s', now: 2, hooks });
    stopService(s, ctrl.ct, { service: 'k3s', hooks });
    stopService(s, ctrl.ct, { service: 'k3s', hooks }); // already stopped
    bootContainer(s, ctrl, { now: 3, hooks });
  });
  assert.deepEqual(calls, ['started k3s-ctrl-1', 'stopping k3s-ctrl-1', 'started k3s-ctrl-1']);
});
