/** What a fired fault does to the command it caught. */
import type { ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { FaultEffect } from './types.js';

/** Thrown when a fault drops the connection; the lab's Shell turns it into ShellError{unreachable}. */
export class LabConnectionDropped extends Error {
  constructor() {
    super('Connection closed by remote host');
  }
}

/** Returns the faked result, or undefined when the command should then run normally (delay only). */
export async function applyEffect(ctx: ExecContext, e: FaultEffect): Promise<ExecResult | undefined> {
  if (e.delayMs !== undefined) await ctx.sleep(e.delayMs);
  if (e.dropConnection) throw new LabConnectionDropped();
  if (e.hang) await new Promise<never>(() => {});
  if (e.exitCode === undefined && e.stdout === undefined && e.stderr === undefined) return undefined;
  return { code: e.exitCode ?? 0, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
}
