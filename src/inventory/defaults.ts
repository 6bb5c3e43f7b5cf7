/** Default settings of the inventory file; docs/inventory.md lists the same values. */
import type { ContainerSettings, DrainPolicy, InstallSettings, K3sSettings, UpgradePolicy } from './types.js';

export const DEFAULT_CHANNEL_URL = 'https://update.k3s.io/v1-release/channels';
export const DEFAULT_INSTALL_SCRIPT_URL = 'https://get.k3s.io';
/**
 * The file's spelling of the shell provider `lab` (the embedded lab registers it): a host
 * `{ lab: true }`, the top-level `lab: { dir }` (its settings) and `channelUrl: lab` (it serves
 * the channels). Parsing maps them to `{ kind: 'provider', provider: 'lab' }`, `providers.lab`
 * and `channelUrl: { provider: 'lab' }`; rendering maps them back.
 */
export const FILE_LAB_PROVIDER = 'lab';
/** The `channelUrl` value that makes the lab provider serve the channels. */
export const LAB_CHANNEL_URL = FILE_LAB_PROVIDER;

export const DEFAULT_K3S: Readonly<K3sSettings> = Object.freeze({
  channel: 'stable',
  version: undefined,
  channelUrl: DEFAULT_CHANNEL_URL,
  installScriptUrl: DEFAULT_INSTALL_SCRIPT_URL,
});

export const DEFAULT_DRAIN: Readonly<DrainPolicy> = Object.freeze({
  ignoreDaemonsets: true,
  deleteEmptydirData: true,
  disableEviction: true,
  force: false,
  timeoutSeconds: 300,
  gracePeriodSeconds: undefined,
  skipWaitForDeleteTimeoutSeconds: undefined,
  onTimeout: 'fail',
});

export const DEFAULT_UPGRADE: Readonly<UpgradePolicy> = Object.freeze({
  order: 'auto',
  allowSkew: false,
  readyTimeoutSeconds: 600,
  drainServers: 'auto',
  snapshot: false,
  snapshotRetention: 2,
  parallel: 1,
});

export const DEFAULT_CONTAINER: Readonly<ContainerSettings> = Object.freeze({
  template: undefined,
  storage: 'local-lvm',
  diskSizeGb: 20,
  cores: 2,
  memoryMb: 2048,
  network: 'name=eth0,bridge=vmbr0,ip=dhcp',
  tags: ['k3s'],
});

export const DEFAULT_INSTALL: Readonly<InstallSettings> = Object.freeze({ serverArgs: [], agentArgs: [], config: undefined });
