/**
 * The embedded lab: a simulated Proxmox VE + k3s world behind the Shell interface. Importing this
 * entry point (`pve-k3s/lab`) registers the lab's shell provider, so inventories with lab hosts
 * connect (src/lab/provider.ts).
 */
import { registerLabProvider } from './provider.js';
registerLabProvider();
export { labShellProvider, registerLabProvider, LAB_PROVIDER } from './provider.js';
export { initLab, openLab, Lab, type LabInitOptions, type LabOpenOptions, type NodeSummary } from './lab.js';
export type { WorkMeter } from './context.js';
export { installShims, shimCommand } from './shim-install.js';
export { DEFAULT_CHANNELS } from './catalog.js';
export { DEFAULT_TIMING, DEFAULT_VERSION } from './world.js';
export type { ChannelServer } from './channel-server.js';
export { labBreak, LAB_BREAKAGES, type LabBreakage, type LabBreakOptions } from './breakages.js';
export { migrateContainer, type MigrateOptions } from './migrate.js';
export { putHostFile, labList } from './state-edits.js';
export { LAB_TEMPLATE, TEMPLATE_DIR } from './pct-create.js';
export { renderConf } from './pve-files.js';
export { binaryContent } from './k3s-files.js';
export { INSTALL_SCRIPT } from './installer.js';
export { labPolicyProblem, type LabPolicyProblem } from './policy-problems.js';
export { PVE_8, PVE_9 } from './policy-state.js';
export type {
  ChannelFault,
  ContainerState,
  Fault,
  FaultEffect,
  FaultMatch,
  HostState,
  KubeNode,
  LabPolicyState,
  LabPve,
  LabState,
  LabTiming,
  Pod,
  PodDisruptionBudget,
  ServiceState,
} from './types.js';
import { renderInventoryFor } from './inventory.js';
import { renderBareInventory } from './bare.js';
import type { Lab } from './lab.js';

/** The inventory YAML for this lab (hosts `{ lab: true }`, channelUrl `lab`); a bare lab's lists every planned node. */
export function renderLabInventory(lab: Lab): string {
  const s = lab.state;
  return s.init.bare ? renderBareInventory(lab.dir, s) : renderInventoryFor(lab.dir, s);
}
export { sucReleaseManifests } from './suc-manifests.js';
export { LAB_SUC_VERSION, jobName as sucJobName } from './suc-controller.js';
export { clearReleasedLease } from './kube-leases.js';
export { installSucState } from './suc-kubectl.js';
