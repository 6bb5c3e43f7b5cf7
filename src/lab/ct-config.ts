/** A container's `pct config` lines in the lab's state: set one key, or remove it (value undefined). */
import type { ContainerState } from './types.js';

export function setConf(ct: ContainerState, key: string, value: string | undefined): void {
  const i = ct.config.findIndex(([k]) => k === key);
  if (value === undefined) {
    if (i >= 0) ct.config.splice(i, 1);
    return;
  }
  if (i >= 0) ct.config[i] = [key, value];
  else ct.config.push([key, value]);
}
