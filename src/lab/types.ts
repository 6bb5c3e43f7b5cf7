/**
 * The lab's world: plain JSON-serialisable data persisted in `<dir>/state.json`. Nothing here
 * runs; time-dependent facts (is a node Ready?) are computed from timestamps when read.
 */

/** Simulated durations. Tests use tens of milliseconds; `lab init` uses short real-looking ones. */
export interface LabTiming {
  /** Download + install of a k3s binary by the install script. @default 1500 */
  installMs: number;
  /** From a (re)start of a k3s service until its node is Ready (the API is up at half). @default 2000 */
  restartMs: number;
  /** Time kubectl drain spends per evicted/deleted pod. @default 200 */
  drainPerPodMs: number;
  /** Injected latency per `pct exec`. @default 0 */
  pctExecMs: number;
  /** Injected latency per host command (an SSH round trip). @default 0 */
  sshRttMs: number;
}

export interface FileEntry {
  content: string;
  /** Octal permission bits, e.g. 0o644. Directories have `dir: true`. */
  mode: number;
  dir?: boolean;
  /** A symlink target (kubectl -> k3s). */
  link?: string;
}
export type FileMap = Record<string, FileEntry>;

export type ServiceName = 'k3s' | 'k3s-agent';

export interface ServiceState {
  /** Enabled at boot (systemctl enable). */
  enabled: boolean;
  /** The service should be running (started and not stopped). */
  running: boolean;
  /** When it was last (re)started, epoch ms. */
  startedAt: number;
  /** The binary version it runs since its last start. */
  runningVersion: string;
  /** The version the node reported before this start (shown until the restart completes). */
  previousVersion: string | undefined;
  /** The Kubernetes cluster this service is a member of (its datastore or the server it joined). */
  cluster: string;
  /** Why it cannot come up (bad token, unreachable server, injected failure); undefined when fine. */
  failure: string | undefined;
}

export interface K3sInstall {
  /** Version of /usr/local/bin/k3s, or undefined when not installed. */
  binaryVersion: string | undefined;
  services: Partial<Record<ServiceName, ServiceState>>;
  /** The cluster whose datastore lives in /var/lib/rancher/k3s/server (a server ever ran here). */
  dataCluster: string | undefined;
}

/** Switches that make one container misbehave (fault injection). */
export interface ContainerSwitches {
  /** The installer's downloaded binary does not match the hash file. */
  hashMismatch?: boolean;
  /** The storage cannot snapshot (`snapshot feature is not available`). */
  snapshotsUnsupported?: boolean;
  /** k3s services fail right after every start. */
  serviceFails?: boolean;
}

export interface SnapshotState {
  name: string;
  description: string;
  /** Epoch seconds. */
  snaptime: number;
  parent: string | undefined;
  config: Array<[string, string]>;
  fs: FileMap;
  k3s: K3sInstall;
}

export interface ContainerState {
  vmid: number;
  hostname: string;
  status: 'running' | 'stopped';
  lock: string;
  /** `pct config` key/values in order, including lxc.* lines. */
  config: Array<[string, string]>;
  snapshots: SnapshotState[];
  fs: FileMap;
  k3s: K3sInstall;
  switches: ContainerSwitches;
  /** Epoch ms of the last start (uptime). */
  startedAt: number;
  /** Resource figures for pvesh/cluster resources. */
  maxmem: number;
  maxdisk: number;
  maxcpu: number;
}

export interface HostState {
  name: string;
  containers: ContainerState[];
  /** The host's own small file system (pct push/pull sources and targets). */
  fs: FileMap;
}

export interface KubeNode {
  name: string;
  host: string;
  vmid: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  unschedulable: boolean;
  /** When it was cordoned (the taint's timeAdded). */
  unschedulableSince: number | undefined;
  createdAt: number;
  internalIp: string;
  podCidr: string;
  uid: string;
  /** Fault switch: the node never becomes Ready. */
  neverReady?: boolean;
  /** Fault switch: once it has run `version` for `ms` (after passing its health gate), the node falls NotReady. */
  failsAfter?: { version: string; ms: number };
}

export type OwnerKind = 'ReplicaSet' | 'StatefulSet' | 'DaemonSet';

export interface Pod {
  namespace: string;
  name: string;
  /** The `app` label (PDB selectors match it). */
  app: string;
  owner: { kind: OwnerKind; name: string } | undefined;
  emptyDir: boolean;
  /** Node it runs on; '' while Pending. */
  node: string;
  createdAt: number;
  uid: string;
  /** Labels beside `app`. */
  labels?: Record<string, string>;
  /** Its container's restartCount. @default 0 */
  restarts?: number;
}

export interface PodDisruptionBudget {
  namespace: string;
  name: string;
  minAvailable: number;
  /** matchLabels.app */
  app: string;
}

export interface KubeCluster {
  nodes: Record<string, KubeNode>;
  pods: Pod[];
  pdbs: PodDisruptionBudget[];
  /** system-upgrade-controller in this cluster (suc-controller.ts); absent = never installed. */
  suc?: LabSuc;
}

/** A status condition as Kubernetes objects carry them (times in epoch ms). */
export interface LabCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: number;
  lastTransitionTime: number;
}

/** system-upgrade-controller (SUC v0.16-v0.20 behaviour, see suc-controller.ts) as a cluster holds it. */
export interface LabSuc {
  /** The Plan CRD plans.upgrade.cattle.io is registered. */
  crd: boolean;
  /** The Deployment system-upgrade/system-upgrade-controller and the version of its image; absent = not deployed. */
  deployment?: { version: string; createdAt: number };
  plans: LabSucPlan[];
  jobs: LabSucJob[];
  /** Lab time the controller has caught up to (its handlers run when the cluster is looked at). */
  at: number;
  /** The other objects of SUC's manifests as last applied (`kind/namespace/name` -> JSON), for created/unchanged/configured. */
  applied?: Record<string, string>;
  /** Injected failures of the upgrade container of Jobs (first match per Job attempt). */
  faults?: LabSucFault[];
}

export interface LabSucPlan {
  namespace: string;
  name: string;
  uid: string;
  createdAt: number;
  generation: number;
  resourceVersion: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** As applied (upgrade.cattle.io/v1 PlanSpec). */
  spec: Record<string, unknown>;
  status: {
    observedGeneration?: number;
    latestVersion?: string;
    latestHash?: string;
    applying?: string[];
    conditions: LabCondition[];
  };
}

export type LabSucStage = 'prepare' | 'cordon' | 'drain' | 'upgrade' | 'done';

export interface LabSucJob {
  namespace: string;
  name: string;
  uid: string;
  plan: string;
  node: string;
  hash: string;
  /** The Plan's latestVersion the Job applies (`+` written `-`). */
  version: string;
  createdAt: number;
  labels: Record<string, string>;
  /** The container of its pod that runs now, since when; `done` once the Job finished. */
  stage: LabSucStage;
  stageSince: number;
  /** The stages this Job's pod runs, in order (init containers, then upgrade). */
  stages: LabSucStage[];
  /** Pod attempts so far (backoffLimit 2: the third failure fails the Job). */
  attempt: number;
  activeDeadlineSeconds: number;
  /** What each container printed (the latest attempt). */
  logs: Partial<Record<LabSucStage, string>>;
  /** How the Job ended. */
  result?: { type: 'Complete' | 'Failed'; at: number; reason: string; message: string };
  /** When its container next needs the clock (a wait's next look, a drain or download done); absent until the stage starts. */
  checkAt?: number;
  /** The controller has labelled the node for this completed Job. */
  nodeLabelled?: boolean;
}

export interface LabSucFault {
  /** Only Jobs on this node / of this Plan. */
  node?: string;
  plan?: string;
  exitCode: number;
  /** What the upgrade container prints before it exits. */
  log: string;
  /** How many pod attempts fail. @default every one */
  times?: number;
}

export interface FaultMatch {
  host?: string;
  vmid?: number;
  /** Matches the start of the argv: a host command's whole argv, or a command run in a container. */
  argvPrefix?: string[];
  /** Matches a substring of the argv joined with spaces (and, for host commands, the stdin). */
  contains?: string;
  /** Restrict to host commands or to commands run inside containers. @default both */
  level?: 'host' | 'container';
}

export interface FaultEffect {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Sleep this long first; alone, the command then runs normally. */
  delayMs?: number;
  /** Never answer (until the caller's timeout or abort). */
  hang?: boolean;
  /** The connection drops: the Shell throws ShellError{unreachable}. */
  dropConnection?: boolean;
}

export interface Fault {
  match: FaultMatch;
  effect: FaultEffect;
  /** How many times it fires before it is consumed. @default 1 */
  times?: number;
}

/** A fault of the lab's channel server (and of the installer's channel lookups). */
export interface ChannelFault {
  /** 'collection' for GET .../channels, or a channel id; undefined = every request. */
  path?: string;
  effect: {
    status?: number;
    /** Raw body to send instead (e.g. an HTML error page). */
    body?: string;
    contentType?: string;
    /** Replace the channel's `latest` (e.g. the literal word "stable"). */
    latest?: string;
    /** Send the headers and this many bytes of the body, then stall (the connection stays open). */
    stallAfterBytes?: number;
  };
  times?: number;
}

export interface LabInitRecord {
  hosts: number;
  servers: number;
  workers: number;
  version: string;
  nodeVersions: Record<string, string>;
  channels: unknown;
  timing: LabTiming;
  cluster: string;
  /** `lab init --bare`: containers without k3s, one missing (src/lab/bare.ts). */
  bare?: boolean;
  /** The lab's clock (src/lab/clock.ts); absent = real. */
  clock?: 'real' | 'virtual';
}

export interface LabState {
  schema: 1;
  cluster: string;
  token: string;
  installScriptUrl: string;
  /** The channels collection (test/fixtures/channels.json format). */
  channels: unknown;
  timing: LabTiming;
  hosts: HostState[];
  /** Kubernetes clusters by id; the lab's own is `cluster`, rogue ones appear when a worker is broken. */
  clusters: Record<string, KubeCluster>;
  faults: Fault[];
  channelFaults: ChannelFault[];
  /** Counter for generated names. */
  seq: number;
  init: LabInitRecord;
  /** Doctor conditions (src/lab/conditions.ts); absent = healthy. The key keeps its old name for existing labs. */
  maintenance?: LabMaintenanceState;
  /** What the upgrade policy looks at: Proxmox packages, HA, nf_conntrack_max, other upgraders (policy-state.ts); absent = a stock host. */
  policy?: LabPolicyState;
}

/** Lab-only facts the doctor looks at; absent means healthy. */
export interface LabMaintenanceState {
  /** Host kernel modules that are NOT loaded, per host. */
  missingModules?: Record<string, string[]>;
  /**
   * Hosts whose `/proc/modules` cannot be read (absent, as under some hardened kernels), and
   * hosts without `/sys/module` either: what pve-k3s knows of their modules.
   */
  unreadableModules?: Record<string, Array<'proc' | 'sys'>>;
  /** Per container, key `<host>/<vmid>`. */
  containers?: Record<string, ContainerConditions>;
  /** How long a vzdump of one container takes (ms). @default 20 */
  vzdumpMs?: number;
}

export interface ContainerConditions {
  /** The propagation of `/` (`mount --make-rshared /` makes it shared). @default "shared" */
  rootPropagation?: 'private' | 'shared';
  /** `df` of `/`: percent used. @default 31 */
  diskUsedPct?: number;
  /** The container's clock is this many seconds ahead of the lab's. @default 0 */
  clockOffsetS?: number;
}

/** A container and the host that holds it. */
export interface Located {
  host: HostState;
  ct: ContainerState;
}

/** Packages of a lab host as `pveversion -v` lists them. */
export interface LabPve {
  manager: string;
  kernel: string;
  lxc: string;
  zfs: string;
}

/** The hosts and cluster as the upgrade policy sees them (policy-state.ts); absent parts are stock. */
export interface LabPolicyState {
  /** Per host; absent = Proxmox VE 8.4 (PVE_8). */
  pve?: Record<string, LabPve>;
  /** HA resources (resources.cfg is cluster-wide): `ct:<vmid>` -> state. */
  ha?: Record<string, string>;
  /** datacenter.cfg's `crs:` value, e.g. `ha=static,ha-rebalance-on-start=1`. */
  crs?: string;
  /** Per host nf_conntrack_max; absent = 65536 (a stock host with nf_conntrack loaded). */
  conntrackMax?: Record<string, number>;
  /** SUC Plans in the cluster, `namespace/name`. */
  sucPlans?: string[];
  /** Rancher's cluster agent runs in the cluster. */
  rancher?: boolean;
}
