/** Channel faults: consumed as they fire, by the channel server and the installer's lookups. */
import type { ChannelFault, LabState } from './types.js';

/** `path` is 'collection' or a channel id. Mutates `s` (call inside a store update). */
export function consumeChannelFault(s: LabState, path: string): ChannelFault['effect'] | undefined {
  const i = s.channelFaults.findIndex((f) => f.path === undefined || f.path === path);
  const f = s.channelFaults[i];
  if (!f) return undefined;
  const left = (f.times ?? 1) - 1;
  if (left <= 0) s.channelFaults.splice(i, 1);
  else f.times = left;
  return f.effect;
}
