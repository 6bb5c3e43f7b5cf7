/**
 * Every key of the inventory file, by path pattern (`*` = a host or node name): what it must
 * hold and what to do when it does not. Error messages and "did you mean" suggestions come
 * from this table, so it is the one list of valid keys.
 */
export interface FieldInfo {
  /** Completes "must be ...". */
  expected: string;
  hint: string;
}

const DURATION = 'a positive duration: seconds (90) or units ("90s", "5m", "1h", "1m30s")';
const BOOLEAN = 'true or false';
const DOCS = 'See docs/inventory.md.';
const CONTAINER_KEYS = 'template, storage, diskSize, cores, memory, network, tags';

function containerFields(prefix: string): Record<string, FieldInfo> {
  return {
    [`${prefix}.template`]: {
      expected: 'a template volume such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      hint: 'List them with `pveam list local` on the Proxmox host.',
    },
    [`${prefix}.storage`]: {
      expected: 'a Proxmox storage name such as local-lvm',
      hint: 'Use a storage from `pvesm status` that holds container disks.',
    },
    [`${prefix}.diskSize`]: { expected: 'the root disk size in GiB, e.g. 20 or "20G"', hint: 'Default 20.' },
    [`${prefix}.cores`]: { expected: 'an integer from 1 to 8192', hint: 'Default 2.' },
    [`${prefix}.memory`]: { expected: 'the memory in MiB, an integer from 16', hint: 'Default 2048.' },
    [`${prefix}.network`]: {
      expected: 'a pct net0 value such as name=eth0,bridge=vmbr0,ip=10.0.20.30/24,gw=10.0.20.1',
      hint: 'Default name=eth0,bridge=vmbr0,ip=dhcp. A static ip makes the server URL known before k3s runs.',
    },
    [`${prefix}.tags`]: {
      expected: 'a Proxmox tag or a list of them (letters, digits, _ + . -)',
      hint: 'Default k3s; the role (server or agent) is added.',
    },
  };
}

export const FIELDS: Readonly<Record<string, FieldInfo>> = {
  '': { expected: 'a mapping of settings', hint: `Start from the example in docs/inventory.md.` },
  cluster: {
    expected: 'a cluster name of lowercase letters, digits and "-", starting with a letter or digit, at most 63 characters',
    hint: 'Set e.g. `cluster: homelab`.',
  },
  hosts: {
    expected: 'a mapping of Proxmox node names to how to reach them',
    hint: 'Declare e.g. `hosts: { pve1: { ssh: root@pve1 } }`.',
  },
  'hosts.*': {
    expected: 'a mapping with exactly one of ssh, local or lab',
    hint: 'Write e.g. `{ ssh: root@pve1 }`, `{ local: true }` or `{ lab: true }`.',
  },
  'hosts.*.ssh': {
    expected: 'an SSH destination (root@pve1, pve1, or an alias from ~/.ssh/config) without spaces, not starting with "-"',
    hint: 'Use what you would type after `ssh`; aliases from ~/.ssh/config work.',
  },
  'hosts.*.sshConfig': {
    expected: 'the path of an ssh config file (ssh -F)',
    hint: 'Write e.g. `sshConfig: ~/.ssh/config-lab`, or remove it to use ~/.ssh/config.',
  },
  'hosts.*.sshPersist': {
    expected: 'false, or how long the ssh connection stays open after a command (a duration such as 60s or 5m)',
    hint: 'Write `sshPersist: false` to close the connection when each command ends, or e.g. `sshPersist: 5m`; remove it for 60s.',
  },
  'hosts.*.local': { expected: 'true', hint: 'Write `local: true` when pve-k3s runs on this host, or remove it.' },
  'hosts.*.lab': { expected: 'true', hint: 'Write `lab: true` for a host of the embedded lab, or remove it.' },
  nodes: {
    expected: 'a mapping of Kubernetes node names to containers',
    hint: 'Declare e.g. `nodes: { k3s-ctrl-1: { vmid: 100, host: pve1, role: server } }`.',
  },
  'nodes.*': {
    expected: 'a mapping with vmid, host and role',
    hint: 'Write e.g. `{ vmid: 100, host: pve1, role: server }`; optional keys: container, upgrade.',
  },
  'nodes.*.vmid': {
    expected: 'an integer from 100 to 999999999',
    hint: 'Use the container ID that `pct list` shows on the Proxmox host.',
  },
  'nodes.*.host': {
    expected: 'the name of a host declared under hosts',
    hint: 'Use the Proxmox node that holds the container.',
  },
  'nodes.*.container': {
    expected: 'a mapping of container settings',
    hint: `Valid keys: ${CONTAINER_KEYS}. They override the top-level container section for this node. ${DOCS}`,
  },
  ...containerFields('nodes.*.container'),
  'nodes.*.upgrade': {
    expected: BOOLEAN,
    hint: 'false holds the node back: upgrades leave it at its version (a --node naming it overrides). Default true.',
  },
  'nodes.*.role': {
    expected: 'server, agent or worker',
    hint: 'Use `role: server` for a control-plane node, `role: agent` (or `worker`) otherwise.',
  },
  controller: {
    expected: 'the name of a server node',
    hint: 'Name a node with `role: server`, or remove `controller` to use the first server.',
  },
  k3s: { expected: 'a mapping', hint: `Valid keys: channel, version, channelUrl, installScriptUrl. ${DOCS}` },
  'k3s.channel': {
    expected: 'a channel id such as stable, latest, testing or v1.31',
    hint: 'Use a channel that the channel server lists (`stable` by default).',
  },
  'k3s.version': {
    expected: 'a k3s version such as v1.33.5+k3s1',
    hint: 'Copy the exact tag from https://github.com/k3s-io/k3s/releases, or remove `version` to follow the channel.',
  },
  'k3s.channelUrl': {
    expected: 'an http(s) URL, or `lab`',
    hint: 'Use https://update.k3s.io/v1-release/channels (the default) or a mirror of it.',
  },
  'k3s.installScriptUrl': {
    expected: 'an http(s) URL',
    hint: 'Use https://get.k3s.io (the default) or a mirror of it.',
  },
  drain: {
    expected: 'a mapping',
    hint: `Valid keys: ignoreDaemonsets, deleteEmptydirData, disableEviction, force, timeout, gracePeriod, skipWaitForDeleteTimeout, onTimeout. ${DOCS}`,
  },
  'drain.ignoreDaemonsets': { expected: BOOLEAN, hint: 'kubectl drain --ignore-daemonsets; default true.' },
  'drain.deleteEmptydirData': { expected: BOOLEAN, hint: 'kubectl drain --delete-emptydir-data; default true.' },
  'drain.disableEviction': { expected: BOOLEAN, hint: 'kubectl drain --disable-eviction; default true.' },
  'drain.force': { expected: BOOLEAN, hint: 'kubectl drain --force; default false.' },
  'drain.timeout': { expected: DURATION, hint: 'kubectl drain --timeout; default 5m.' },
  'drain.gracePeriod': { expected: DURATION, hint: "kubectl drain --grace-period; remove it to use the pods' own." },
  'drain.skipWaitForDeleteTimeout': { expected: DURATION, hint: 'kubectl drain --skip-wait-for-delete-timeout; not passed by default.' },
  'drain.onTimeout': {
    expected: 'fail or disable-eviction',
    hint: 'fail (the default) stops the upgrade when an evicting drain times out; disable-eviction retries it deleting pods (bypasses PDBs).',
  },
  upgrade: {
    expected: 'a mapping',
    hint: `Valid keys: order, allowSkew, readyTimeout, drainServers, snapshot, snapshotRetention, parallel, canary, canarySoak, soak, window, notify, prometheusUrl, alertFilterRegexp, alertFiringOnly, alertFilterMatchOnly, blockingPodSelector, gateTimeout. ${DOCS}`,
  },
  'upgrade.order': {
    expected: 'auto, workers-first or servers-first',
    hint: 'auto (the default) upgrades workers first for patch releases and servers first for minor ones.',
  },
  'upgrade.allowSkew': { expected: BOOLEAN, hint: 'Default false: refuse a kubelet newer than its apiserver.' },
  'upgrade.readyTimeout': { expected: DURATION, hint: 'How long to wait for an upgraded node to be Ready; default 10m.' },
  'upgrade.drainServers': {
    expected: 'auto, always or never',
    hint: 'auto (the default) drains a server when another node can take its pods.',
  },
  'upgrade.snapshot': { expected: BOOLEAN, hint: 'Default false: take a `pct snapshot` of each container before its upgrade.' },
  'upgrade.snapshotRetention': {
    expected: 'an integer from 1 to 100',
    hint: 'How many pre-k3s-* snapshots to keep per container; default 2.',
  },
  'upgrade.parallel': { expected: 'an integer from 1 to 100', hint: 'How many workers to upgrade at once; default 1.' },
  'upgrade.canary': {
    expected: 'the name of a node',
    hint: 'The node upgraded first, alone, then confirmed on the terminal or soaked for canarySoak. See docs/upgrade-policy.md.',
  },
  'upgrade.canarySoak': {
    expected: DURATION,
    hint: 'How long the canary must stay healthy before the rest go (none: ask on the terminal).',
  },
  'upgrade.soak': { expected: DURATION, hint: 'How long each node must stay healthy before the next one starts; none by default.' },
  'upgrade.window': {
    expected: 'a mapping with days, start, end and timeZone',
    hint: 'Write e.g. `window: { days: [sat, sun], start: "22:00", end: "04:00", timeZone: Europe/Berlin }`. See docs/upgrade-policy.md.',
  },
  'upgrade.window.days': {
    expected: 'a list of days of the week (mon..sun or monday..sunday)',
    hint: 'Write e.g. `days: [sat, sun]`; default every day.',
  },
  'upgrade.window.start': {
    expected: 'a time of day, HH:MM (24-hour) or 3am',
    hint: 'Write e.g. `start: "22:00"` (quoted); default 00:00.',
  },
  'upgrade.window.end': {
    expected: 'a time of day, HH:MM (24-hour) or 3am',
    hint: 'Write e.g. `end: "04:00"` (quoted); before start, the window goes past midnight; default 24:00.',
  },
  'upgrade.window.timeZone': { expected: 'an IANA time zone such as Europe/Berlin, or UTC', hint: 'Default UTC.' },
  'upgrade.notify': {
    expected: 'a webhook URL or a list of them (http or https, optionally ntfy+, slack+, discord+ or generic+ before it)',
    hint: 'Write e.g. `notify: [https://ntfy.sh/my-k3s]`; the format is taken from the host (ntfy.sh, hooks.slack.com, discord.com) unless given. See docs/upgrade-policy.md.',
  },
  'upgrade.prometheusUrl': {
    expected: 'an http(s) URL',
    hint: 'The Prometheus (or Alertmanager-compatible) base URL, e.g. http://prometheus.monitoring:9090; its /api/v1/alerts is asked before each node.',
  },
  'upgrade.alertFilterRegexp': {
    expected: 'a regular expression',
    hint: 'As kured: active alerts whose name matches are ignored (every active alert blocks without it). Example: ^(Watchdog|InfoInhibitor)$.',
  },
  'upgrade.alertFiringOnly': { expected: BOOLEAN, hint: 'As kured: true = only firing alerts block, not pending ones. Default false.' },
  'upgrade.alertFilterMatchOnly': {
    expected: BOOLEAN,
    hint: 'As kured: true = only alerts matching alertFilterRegexp block (the filter is inverted). Default false.',
  },
  'upgrade.blockingPodSelector': {
    expected: 'a label selector or a list of them',
    hint: 'As kured: a node does not start while pods matching one of them run on it, e.g. [app=backup, runtime=long,cost=expensive].',
  },
  'upgrade.gateTimeout': {
    expected: DURATION,
    hint: 'How long an alert or pod gate may hold the next node back before the run stops (resumable); default 1h.',
  },
  lab: { expected: 'a mapping with dir', hint: 'Run `pve-k3s lab init` to write a lab inventory.' },
  'lab.dir': {
    expected: "the path of the lab's state directory",
    hint: 'Write e.g. `dir: ~/.local/state/pve-k3s/lab`.',
  },
  container: {
    expected: 'a mapping of container settings',
    hint: `Valid keys: ${CONTAINER_KEYS}. \`pve-k3s install\` creates missing containers with them. ${DOCS}`,
  },
  ...containerFields('container'),
  install: { expected: 'a mapping', hint: `Valid keys: serverArgs, agentArgs, config. ${DOCS}` },
  'install.serverArgs': {
    expected: 'a list of k3s server flags',
    hint: 'Write e.g. `serverArgs: [--disable=traefik, --tls-san=k3s.example.com]`.',
  },
  'install.agentArgs': { expected: 'a list of k3s agent flags', hint: 'Write e.g. `agentArgs: [--node-label=tier=web]`.' },
  'install.config': {
    expected: 'the text or a mapping of /etc/rancher/k3s/config.yaml',
    hint: 'Write a mapping (`config: { write-kubeconfig-mode: "0644" }`) or a block of YAML text (`config: |`).',
  },
};

/** The path pattern of a field path: the name under hosts/nodes becomes `*`. */
export function fieldPattern(path: readonly (string | number)[]): string {
  return path.map((seg, i) => (i === 1 && (path[0] === 'hosts' || path[0] === 'nodes') ? '*' : String(seg))).join('.');
}

/** The valid keys of the mapping at `path`, for "did you mean" and the list in hints. */
export function knownKeys(path: readonly (string | number)[]): string[] {
  const pattern = fieldPattern(path);
  const prefix = pattern === '' ? '' : `${pattern}.`;
  return Object.keys(FIELDS)
    .filter((k) => k !== '' && k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .filter((k) => !k.includes('.') && k !== '*');
}

/** A field path for messages: `nodes.k3s-worker-1.vmid`; names with dots are quoted: `nodes["a.b"].vmid`. */
export function formatField(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    const s = String(seg);
    out += /^[^.[\]"\s]+$/.test(s) ? (out === '' ? s : `.${s}`) : `[${JSON.stringify(s)}]`;
  }
  return out;
}
