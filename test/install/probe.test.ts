import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modulesFrom } from '../../src/install/probe.js';

const PROC = (mods: string[]) => ({ code: 0, stdout: mods.map((m) => `${m} 151552 0 - Live 0x0\n`).join('') });
const ok = { code: 0 };
const no = { code: 1 };

test('GIVEN what /proc/modules and /sys/module show WHEN read THEN a module is missing only when something readable shows it absent', () => {
  const cases: Array<[string, Parameters<typeof modulesFrom>, ReturnType<typeof modulesFrom>]> = [
    ['both loaded', [PROC(['overlay', 'br_netfilter']), ok, [ok, ok]], { missing: [], unknown: undefined }],
    ['both absent', [PROC(['ip_tables']), ok, [no, no]], { missing: ['overlay', 'br_netfilter'], unknown: undefined }],
    // Built into the kernel: in /sys/module, never in /proc/modules.
    ['overlay built in', [PROC(['br_netfilter']), ok, [ok, ok]], { missing: [], unknown: undefined }],
    // /proc/modules unreadable (the false refusal of issue 12): /sys/module answers.
    [
      'no /proc/modules, /sys/module shows both',
      [{ code: 1, stdout: 'cat: /proc/modules: No such file or directory' }, ok, [ok, ok]],
      { missing: [], unknown: undefined },
    ],
    ['no /proc/modules, /sys/module lacks one', [{ code: 1, stdout: '' }, ok, [ok, no]], { missing: ['br_netfilter'], unknown: undefined }],
    [
      'neither readable',
      [{ code: 1, stdout: '' }, no, [no, no]],
      { missing: [], unknown: 'neither /proc/modules nor /sys/module can be read' },
    ],
    ['no answer at all', [undefined, undefined, []], { missing: [], unknown: 'neither /proc/modules nor /sys/module can be read' }],
  ];
  for (const [name, args, want] of cases) assert.deepEqual(modulesFrom(...args), want, name);
});
