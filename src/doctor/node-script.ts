/** The script the doctor runs inside each running container (one `pct exec`), and its parser. */
import type { NodeProbe } from './types.js';

export const NODE_SCRIPT = [
  'test -e /dev/kmsg && echo kmsg=yes || echo kmsg=no',
  'echo "propagation=$(findmnt -no PROPAGATION / 2>/dev/null)"',
  'test -x /usr/local/bin/k3s && echo k3s=yes || echo k3s=no',
  'test -x /usr/local/bin/kubectl && echo kubectl=yes || echo kubectl=no',
  'test -e /etc/systemd/system/k3s.service && echo k3s_unit=yes || echo k3s_unit=no',
  'echo "k3s_active=$(systemctl is-active k3s 2>/dev/null)"',
  'echo @@snapshotter',
  'cat /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service /etc/rancher/k3s/config.yaml 2>/dev/null | grep -E "snapshotter|native|fuse-overlayfs|zfs"',
  'echo @@df',
  'df -Pk /',
  'echo @@date',
  'date +%s',
].join('\n');

export function parseNodeProbe(text: string): NodeProbe {
  const sec = (name: string) => {
    const i = text.indexOf(`@@${name}\n`);
    if (i < 0) return '';
    const rest = text.slice(i + name.length + 3);
    const j = rest.indexOf('@@');
    return j < 0 ? rest : rest.slice(0, j);
  };
  const kv = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const df = /\s(\d+)%\s+\/\s*$/m.exec(sec('df'));
  const clock = Number(sec('date').trim().split('\n')[0]);
  return {
    kmsg: kv('kmsg') === 'yes',
    propagation: kv('propagation'),
    k3s: kv('k3s') === 'yes',
    kubectl: kv('kubectl') === 'yes',
    k3sUnit: kv('k3s_unit') === 'yes',
    k3sActive: kv('k3s_active'),
    snapshotter: sec('snapshotter').trim(),
    diskPct: df ? Number(df[1]) : undefined,
    clock: Number.isFinite(clock) && clock > 0 ? clock : undefined,
  };
}
