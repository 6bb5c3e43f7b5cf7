/**
 * Each top-level command's entry of the command table, loaded alone: `pve-k3s status` builds
 * the status command and no other (about 15 ms less before its first SSH request than building
 * all of them, docs/performance.md). main.ts uses it when the command line names one of these;
 * anything else (help, an unknown word, `completion`, which writes the whole tree) builds the
 * whole table of specs/index.ts. test/cli/program.test.ts checks that both name the same entries.
 */
import type { Entry } from '../program.js';

const one = (load: () => Promise<{ default: Entry }>) => async () => (await load()).default;

export const ALONE: Readonly<Record<string, () => Promise<Entry>>> = {
  status: one(() => import('./status.js')),
  plan: one(() => import('./plan.js')),
  preflight: one(() => import('./preflight.js')),
  upgrade: one(() => import('./upgrade.js')),
  resume: one(() => import('./resume.js')),
  abandon: one(() => import('./abandon.js')),
  install: one(() => import('./install.js')),
  join: one(() => import('./join.js')),
  uninstall: one(() => import('./uninstall.js')),
  kubeconfig: one(() => import('./kubeconfig.js')),
  backup: async () => (await import('./groups.js')).backup,
  restore: one(() => import('./restore.js')),
  doctor: one(() => import('./doctor.js')),
  metrics: one(() => import('./metrics.js')),
  monitoring: async () => (await import('./groups.js')).monitoring,
  discover: one(() => import('./discover.js')),
  import: async () => (await import('./groups.js')).importing,
  suc: async () => (await import('./groups.js')).suc,
  lab: async () => (await import('./groups.js')).lab,
  version: one(() => import('./version.js')),
  __complete: one(() => import('./complete.js')),
};

/** Global options that take a value (program.ts addGlobalOptions): the word after them is theirs. */
const VALUED = new Set(['-c', '--config', '-o', '--output']);

/**
 * The command the arguments name, when it can be built alone; undefined (build the whole table)
 * whenever that is not certain: no command word, one this table does not have (help, a typo,
 * an alias), the root's help or version before it, `--`, or a cluster of short options (`-qc
 * FILE`, whose value would be taken for the command).
 */
export function aloneCommand(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUED.has(a)) {
      i++;
      continue;
    }
    if (a === '--' || a === '-h' || a === '--help' || a === '-V' || a === '--version' || /^-[^-]./.test(a)) return undefined;
    if (a.startsWith('-')) continue;
    return Object.hasOwn(ALONE, a) ? a : undefined;
  }
  return undefined;
}
