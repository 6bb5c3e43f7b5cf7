/** `pve-k3s backup verify [DIR] [--drill]`. */
import { Command, examples, type Spec } from '../program.js';

const backupVerify: Spec = (run) => {
  const cmd = new Command('verify')
    .summary(
      "check a backup: checksums, manifest, the SQLite copy (sqlite3 integrity_check), an etcd snapshot's hash; --drill restores it into a scratch lab",
    )
    .description(
      'Check a backup on this machine: every checksum against manifest.json and SHA256SUMS, the token, the SQLite copy ' +
        "opened with sqlite3 (PRAGMA integrity_check, and the nodes and objects it holds), an etcd snapshot's own hash. " +
        'With --drill, restore it into a throwaway lab (never the real cluster) and report what it holds.',
    )
    .argument('[backup]', "the backup directory (default: the cluster's newest)")
    .option('--drill', 'restore it into a throwaway lab and report the nodes and objects it holds')
    .option('--to <dir>', 'where to look for the newest backup (default: <state dir>/backups/<cluster>)')
    .action((dir, opts, c) => run(c, async (g) => (await import('../commands/backup-verify.js')).verify(g, dir, opts)));
  examples(cmd, [
    ['check the newest backup', 'pve-k3s backup verify'],
    ['and prove it restores', 'pve-k3s backup verify --drill'],
  ]);
  return cmd;
};
export default backupVerify;
