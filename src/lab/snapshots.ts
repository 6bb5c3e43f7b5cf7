/** `pct listsnapshot`: the snapshot tree with `current` under its parent (format of test/fixtures/pct-listsnapshot.txt). */
import type { ContainerState } from './types.js';

export function renderSnapshotTree(ct: ContainerState): string {
  const parentOfCurrent = ct.config.find(([k]) => k === 'parent')?.[1];
  const nodes = [
    ...ct.snapshots.map((s) => ({ name: s.name, parent: s.parent, time: fmt(s.snaptime), desc: s.description })),
    { name: 'current', parent: parentOfCurrent, time: '', desc: 'You are here!' },
  ];
  const known = new Set(nodes.map((n) => n.name));
  const rows: Array<{ head: string; time: string; desc: string }> = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const n of nodes) {
      const p =
        n.parent !== undefined && known.has(n.parent) && n.name !== 'current'
          ? n.parent
          : n.name === 'current'
            ? parentOfCurrent
            : undefined;
      if (p !== parent) continue;
      rows.push({ head: `${' '.repeat(depth)}\`-> ${n.name}`, time: n.time, desc: n.desc });
      if (n.name !== 'current') walk(n.name, depth + 1);
    }
  };
  walk(undefined, 0);
  const width = Math.max(...rows.map((r) => r.head.length)) + 8;
  return rows.map((r) => `${r.head.padEnd(width)} ${r.time.padEnd(23)} ${r.desc}\n`).join('');
}

function fmt(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
