/**
 * The command table: every command of pve-k3s, in the order `--help` lists them. A command is
 * one file of this folder; a group's subcommands are its children. (A test fails on a spec file
 * that is not in this table.)
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
import backup from './backup.js';
import backupSchedule from './backup-schedule.js';
import backupScheduleList from './backup-schedule-list.js';
import backupScheduleRemove from './backup-schedule-remove.js';
import backupVerify from './backup-verify.js';
import monitoring from './monitoring.js';
import monitoringExport from './monitoring-export.js';
import restore from './restore.js';
import doctor from './doctor.js';
import metrics from './metrics.js';
import discover from './discover.js';
import importGroup from './import.js';
import importAnsible from './import-ansible.js';
import suc, { sucAbandon, sucInstall, sucPause, sucResume } from './suc.js';
import lab from './lab.js';
import labInit from './lab-init.js';
import labReset from './lab-reset.js';
import labStatus from './lab-status.js';
import labMigrate from './lab-migrate.js';
import version from './version.js';
import completion from './completion.js';
import complete from './complete.js';

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
  { spec: backup, children: [{ spec: backupSchedule, children: [backupScheduleList, backupScheduleRemove] }, backupVerify] },
  restore,
  doctor,
  metrics,
  { spec: monitoring, children: [monitoringExport] },
  discover,
  { spec: importGroup, children: [importAnsible] },
  { spec: suc, children: [sucInstall, sucPause, sucResume, sucAbandon] },
  { spec: lab, children: [labInit, labReset, labStatus, labMigrate] },
  completion,
  version,
  complete,
];
