/**
 * The doctor conditions a lab keeps beside its world (`state.maintenance`): unloaded host
 * modules, and per container the propagation of `/`, disk use and a clock offset.
 */
import type { ContainerConditions, LabMaintenanceState, LabState } from './types.js';

/** The conditions record, created when absent (mutates `s`: call inside a store update). */
export function conditionsOf(s: LabState): LabMaintenanceState {
  s.maintenance ??= {};
  return s.maintenance;
}

/** One container's conditions, created when absent (mutates `s`). */
export function containerConditionsOf(s: LabState, host: string, vmid: number): ContainerConditions {
  const c = conditionsOf(s);
  c.containers ??= {};
  return (c.containers[`${host}/${vmid}`] ??= {});
}

/** One container's conditions as they are (read only; empty when none were set). */
export function containerConditions(s: LabState, host: string, vmid: number): ContainerConditions {
  return s.maintenance?.containers?.[`${host}/${vmid}`] ?? {};
}
