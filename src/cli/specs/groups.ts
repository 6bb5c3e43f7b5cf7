/**
 * The command groups (a command with subcommands), each as its entry of the command table:
 * specs/index.ts lists them among the rest, specs/alone.ts loads one of them alone.
 */
import type { Entry } from '../program.js';
import backupSpec from './backup.js';
import backupSchedule from './backup-schedule.js';
import backupScheduleList from './backup-schedule-list.js';
import backupScheduleRemove from './backup-schedule-remove.js';
import backupVerify from './backup-verify.js';
import monitoringSpec from './monitoring.js';
import monitoringExport from './monitoring-export.js';
import importGroup from './import.js';
import importAnsible from './import-ansible.js';
import sucSpec, { sucAbandon, sucInstall, sucPause, sucResume } from './suc.js';
import labSpec from './lab.js';
import labInit from './lab-init.js';
import labReset from './lab-reset.js';
import labStatus from './lab-status.js';
import labMigrate from './lab-migrate.js';

export const backup: Entry = {
  spec: backupSpec,
  children: [{ spec: backupSchedule, children: [backupScheduleList, backupScheduleRemove] }, backupVerify],
};
export const monitoring: Entry = { spec: monitoringSpec, children: [monitoringExport] };
export const importing: Entry = { spec: importGroup, children: [importAnsible] };
export const suc: Entry = { spec: sucSpec, children: [sucInstall, sucPause, sucResume, sucAbandon] };
export const lab: Entry = { spec: labSpec, children: [labInit, labReset, labStatus, labMigrate] };
