/**
 * The command table: every command of pve-k3s, in the order `--help` lists them. A command is
 * one file of this folder; a group's subcommands are its children (specs/groups.ts). (A test
 * fails on a spec file that is not in this table, and on specs/alone.ts naming other entries.)
 */
import type { Entry } from '../program.js';
import status from './status.js';
import plan from './plan.js';
import preflight from './preflight.js';
import upgrade from './upgrade.js';
import resume from './resume.js';
import abandon from './abandon.js';
import install from './install.js';
import join from './join.js';
import uninstall from './uninstall.js';
import kubeconfig from './kubeconfig.js';
import restore from './restore.js';
import doctor from './doctor.js';
import metrics from './metrics.js';
import discover from './discover.js';
import version from './version.js';
import completion from './completion.js';
import complete from './complete.js';
import { backup, importing, lab, monitoring, suc } from './groups.js';

export const COMMANDS: readonly Entry[] = [
  status,
  plan,
  preflight,
  upgrade,
  resume,
  abandon,
  install,
  join,
  uninstall,
  kubeconfig,
  backup,
  restore,
  doctor,
  metrics,
  monitoring,
  discover,
  importing,
  suc,
  lab,
  completion,
  version,
  complete,
];
