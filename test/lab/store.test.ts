/** The lab's persisted state: a writer killed between removing the old file and renaming the new one in loses nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { openLab } from '../../src/lab/index.js';
import { makeLab, kubectl } from './helpers.js';

test('GIVEN a state.json gone and the complete copy a killed writer left WHEN the lab is opened THEN that copy is the state', async () => {
  const lab = await makeLab();
  await kubectl(lab, 'cordon', 'k3s-worker-1');
  // What write() leaves when killed after removing state.json: its copy, under its temp name.
  renameSync(join(lab.dir, 'state.json'), join(lab.dir, 'state.json.4242.tmp'));
  const again = await openLab(lab.dir);
  assert.equal(again.summary().find((n) => n.name === 'k3s-worker-1')?.schedulable, false);
  assert.ok(existsSync(join(lab.dir, 'state.json')));
  assert.deepEqual(
    readdirSync(lab.dir).filter((n) => n.endsWith('.tmp')),
    [],
  );
});
