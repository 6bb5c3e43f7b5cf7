/**
 * A Kube whose first batch() is not sent on its own: its commands ride in the facts probe's
 * round trip to the controller's host (GatherOptions.controllerReads), so `status` reads the
 * cluster's lease beside the facts with one request per host, in the one `pct exec` of the
 * controller's reads (a framed `sh -c`: each read still gets its own answer).
 * Every later call, and the first one when the probe could not run it (its host unreachable),
 * goes to the controller as usual.
 */
import { Kube } from '../../kube/kube.js';
import type { RunOptions, RunResult } from '../../shell/shell.js';
import type { ControllerReads } from './gather.js';

type Commands = readonly (readonly string[])[];

export class ProbedKube extends Kube {
  /** The first batch's commands, once it is asked for. */
  readonly asked: Promise<Commands>;
  #ask: (c: Commands) => void = () => undefined;
  #answer: ((r: RunResult[] | undefined) => void) | undefined;
  #first = true;

  constructor(kube: Kube) {
    super(kube.pct, kube.controllerVmid, kube.controllerName);
    this.asked = new Promise((resolve) => (this.#ask = resolve));
  }

  override async batch(commands: Commands, opts?: Omit<RunOptions, 'stdin'> & { stopOnFailure?: boolean }): Promise<RunResult[]> {
    // A stop-on-failure batch is a sequence, not reads to run beside others.
    if (!this.#first || opts?.stopOnFailure) return super.batch(commands, opts);
    this.#first = false;
    const answered = new Promise<RunResult[] | undefined>((resolve) => (this.#answer = resolve));
    this.#ask(commands);
    const results = await answered;
    return results?.length === commands.length ? results : super.batch(commands, opts);
  }

  /** The probe's part: the asked commands and where their results go (the first answer counts). */
  reads(commands: Commands): ControllerReads {
    return {
      commands,
      answer: (results) => {
        const answer = this.#answer;
        this.#answer = undefined;
        answer?.(results);
      },
    };
  }

  /** The probe ended without answering (no controller in it): the batch goes on its own. */
  release(): void {
    this.#answer?.(undefined);
    this.#answer = undefined;
  }
}
