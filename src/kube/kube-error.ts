/**
 * Why a kubectl command failed, read from kubectl's own words. Pure: a function of the exit
 * status and the two streams, which batches and sessions keep apart (shell/frames.ts):
 * kubectl says why on its stderr, its stdout is data (a `node/x cordoned` there is not a
 * reason). kubectl exits 1 for nearly everything, so the words are what tell an API that
 * refuses connections from one that answered NotFound.
 *
 * The forms recognised are kubectl's (k8s.io/kubectl/pkg/cmd/util: CheckErr, StandardErrorMessage):
 * - `The connection to the server HOST:PORT was refused - did you specify the right host or port?`
 * - `Unable to connect to the server: <dial error>` (`connect: connection refused` counts as refused)
 * - `Error from server (<StatusReason>): <message>` (NotFound, Forbidden, Conflict, AlreadyExists,
 *   Invalid, BadRequest, Timeout, ServerTimeout, Unauthorized, ...), `Error from server: <message>`
 * - `The <Kind> "<name>" is invalid: <causes>` (an Invalid status with causes)
 * - `error: You must be logged in to the server (Unauthorized)`
 * - `error: timed out waiting for the condition on <res>` (kubectl wait)
 * - cobra's usage errors: `error: unknown flag: --x`, `error: unknown shorthand flag: 'x' in -x`,
 *   `error: flag needs an argument: --x`, `error: invalid argument "v" for "--x" flag: ...`,
 *   `Error: unknown command "x" for "kubectl"`, `error: the server doesn't have a resource type "x"`
 * - pct's own failure (exit 255, `container '100' not running!`): the controller's container is down.
 */
import { KubeError, type ErrorOptions, type KubeErrorReason } from '../domain/errors.js';
import { failureReason } from '../shell/reason.js';

export interface KubeFailure {
  reason: KubeErrorReason;
  /** kubectl's line that says it, unchanged (or, when none matched, all it said: shell/reason.ts). */
  text: string;
}

const STATUS_REASON: Record<string, KubeErrorReason> = {
  NotFound: 'not-found',
  Forbidden: 'forbidden',
  Unauthorized: 'forbidden',
  Conflict: 'conflict',
  AlreadyExists: 'already-exists',
  Invalid: 'invalid',
  BadRequest: 'invalid',
  MethodNotAllowed: 'invalid',
  Gone: 'conflict',
  Timeout: 'timeout',
  ServerTimeout: 'timeout',
};

interface Rule {
  re: RegExp;
  reason: KubeErrorReason | ((m: RegExpExecArray) => KubeErrorReason);
  /** Only with this exit status. */
  exit?: number;
}

/** Checked in order, on each line; the first rule that matches any line wins. */
const RULES: readonly Rule[] = [
  { re: /^The connection to the server \S+ was refused/, reason: 'refused' },
  { re: /^Unable to connect to the server: .*connection refused/, reason: 'refused' },
  { re: /^Unable to connect to the server: .*(Client\.Timeout exceeded|context deadline exceeded)/, reason: 'timeout' },
  { re: /^Unable to connect to the server:/, reason: 'unreachable' },
  { re: /^Error from server \((\w+)\)/, reason: (m) => STATUS_REASON[m[1] ?? ''] ?? 'other' },
  { re: /^The \S+ "[^"]*" is invalid\b/, reason: 'invalid' },
  { re: /^error: You must be logged in to the server/, reason: 'forbidden' },
  { re: /^error: timed out waiting for the condition/, reason: 'timeout' },
  {
    re: /^(error|Error): (unknown (shorthand )?flag|unknown command|flag needs an argument|invalid argument "[^"]*" for "[^"]*" flag|unknown flag)/,
    reason: 'usage',
  },
  { re: /^error: the server doesn't have a resource type/, reason: 'not-found' },
  { re: /^Error from server: /, reason: 'other' },
  // pct's own failure (its own exit status): the controller's container is stopped or elsewhere.
  { re: /^container '\d+' not running!|^Configuration file '[^']*' does not exist/, reason: 'unreachable', exit: 255 },
];

/** Why kubectl failed (exit status non-zero), from its exit status and its stderr (its stdout only when stderr is empty). */
export function classifyKubectl(exitCode: number, stderr: string, stdout: string): KubeFailure {
  const said = stderr.trim() !== '' ? stderr : stdout;
  const lines = said
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const rule of RULES) {
    if (rule.exit !== undefined && rule.exit !== exitCode) continue;
    for (const line of lines) {
      const m = rule.re.exec(line);
      if (!m) continue;
      return { reason: typeof rule.reason === 'function' ? rule.reason(m) : rule.reason, text: line.slice(0, 300) };
    }
  }
  return { reason: 'other', text: failureReason({ code: exitCode, stdout, stderr }) };
}

/** Where kubectl ran, for the message and the hint. */
export interface KubectlSite {
  /** The node name of the controller kubectl runs in. */
  controller: string;
  vmid?: number;
  host?: string;
}

/**
 * The KubeError for a failed kubectl command: "kubectl <verb> [<what>] on <controller>: <kubectl's
 * words>", with a hint that fits the reason (callers may give their own).
 */
export function kubeError(
  args: readonly string[],
  r: { code: number; stdout: string; stderr: string },
  /** Where it ran, and the caller's own hint, detail or cause. */
  site: KubectlSite & ErrorOptions,
): KubeError {
  const opts = site;
  const f = classifyKubectl(r.code, r.stderr, r.stdout);
  return new KubeError(`kubectl ${describeArgs(args)} on ${site.controller}: ${f.text}`, {
    reason: f.reason,
    kubectl: f.text,
    exitStatus: r.code,
    hint: opts.hint ?? hintFor(f.reason, site),
    detail: opts.detail ?? ((r.stderr + (r.stderr && r.stdout ? '\n' : '') + r.stdout).trim() || undefined),
    cause: opts.cause,
  });
}

/** `get node k3s-worker-1`, `wait node/x`, `annotate node x`: the verb and its objects, no flags or values. */
function describeArgs(args: readonly string[]): string {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') || a.includes('=')) continue;
    words.push(a);
    if (words.length === 3) break;
  }
  return words.join(' ') || 'command';
}

function hintFor(reason: KubeErrorReason, s: KubectlSite): string | undefined {
  const where = s.vmid !== undefined && s.host !== undefined ? ` (pct exec ${s.vmid} -- systemctl status k3s, on ${s.host})` : '';
  switch (reason) {
    case 'refused':
      return `the Kubernetes API on ${s.controller} refuses connections: k3s is stopped or restarting there${where}; check it with pve-k3s status, or set \`controller:\` to another server`;
    case 'unreachable':
      return `the Kubernetes API of ${s.controller} cannot be reached: check that its container runs and k3s is up${where} (pve-k3s status)`;
    case 'forbidden':
      return `the credentials kubectl uses on ${s.controller} (/etc/rancher/k3s/k3s.yaml) are not allowed to do this: check them and the cluster's RBAC`;
    case 'usage':
      return `the kubectl on ${s.controller} does not understand the command pve-k3s sent: check its version (/usr/local/bin/kubectl version)`;
    case 'conflict':
      return 'someone else changed the object since it was read: run the command again';
    case 'timeout':
      return `the API of ${s.controller} did not answer in time: check its load and run the command again`;
    default:
      return undefined;
  }
}
