/**
 * The CLI entry: parses arguments, lazily loads the command, and is the ONE place that turns
 * errors into messages and exit statuses (0 done or nothing to do, 1 failed, 2 usage or
 * inventory error). Nothing else calls process.exit.
 */
import { Command, Option, CommanderError } from 'commander';
import type { GlobalOptions } from './context.js';
import { PACKAGE_VERSION } from '../version.js';

function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ config?: string; output: 'table' | 'json' | 'yaml'; verbose?: boolean }>();
  return { config: o.config, output: o.output, verbose: o.verbose ?? false };
}

function planOptions(cmd: Command): Command {
  return cmd
    .option('--channel <name>', "release channel to take the target from (default: the inventory's, else stable)")
    .option('--version <version>', 'pin the target version, e.g. v1.31.2+k3s1')
    .addOption(new Option('--order <order>', 'upgrade order').choices(['auto', 'workers-first', 'servers-first']))
    .option('--allow-skew', 'allow a plan that makes a kubelet newer than its apiserver');
}

/** Drain policy, health gate and snapshot flags shared by `upgrade` and `resume` (over the inventory's). */
function runOptions(cmd: Command): Command {
  return cmd
    .option('--snapshot', 'pct snapshot each container before its upgrade; roll a worker back if it fails its health gate')
    .option('--no-snapshot', 'no snapshots, whatever upgrade.snapshot says')
    .option('--disable-eviction', 'drain by deleting pods (bypasses PodDisruptionBudgets; the default)')
    .option('--no-disable-eviction', 'drain by evicting pods (respects PodDisruptionBudgets)')
    .option('--drain-timeout <duration>', 'kubectl drain --timeout (e.g. 5m)')
    .option('--drain-force', 'kubectl drain --force: also delete pods without a controller')
    .option('--drain-grace-period <duration>', 'kubectl drain --grace-period')
    .option('--skip-wait-for-delete-timeout <duration>', 'kubectl drain --skip-wait-for-delete-timeout')
    .addOption(new Option('--drain-on-timeout <action>', 'when an evicting drain times out').choices(['fail', 'disable-eviction']))
    .option('--ready-timeout <duration>', 'how long each node may take to pass its health gate (default upgrade.readyTimeout)')
    .option(
      '--parallel <n>',
      'upgrade up to n workers at once (default upgrade.parallel, 1: one by one); one schedulable worker always stays up',
    );
}

export function buildProgram(run: (load: () => Promise<number>) => void): Command {
  const program = new Command('pve-k3s')
    .description('k3s on Proxmox VE LXC containers: status, plans and rolling upgrades')
    .version(PACKAGE_VERSION, '-V, --tool-version', 'print the pve-k3s version')
    .option('-c, --config <file>', 'inventory file (default: ./pve-k3s.yaml, then the user config dir)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .option('--verbose', 'show details: remote output, round trips, stack of causes')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('status')
    .description('show each node: role, Proxmox host, container, versions, Ready, schedulable, target')
    .option('--channel <name>', 'channel for the target column')
    .option('--version <version>', 'pinned target for the target column')
    .option('--check', 'one Nagios-style line; exit 0 ok, 1 warning, 2 critical (for cron and monitors)')
    .option('--watch [seconds]', 'refresh every few seconds (default 5) until Ctrl-C')
    .option('--iterations <n>', 'with --watch: stop after n refreshes')
    .action((opts, cmd: Command) => run(async () => (await import('./commands/status.js')).status(globals(cmd), opts)));

  planOptions(program.command('plan').description('show what an upgrade would do (nothing is changed)')).action((opts, cmd: Command) =>
    run(async () => (await import('./commands/upgrade.js')).plan(globals(cmd), opts)),
  );

  const upgradeCmd = planOptions(
    program
      .command('upgrade')
      .description('rolling upgrade: workers one by one (drain, install, wait Ready, uncordon), servers as the skew rules require'),
  )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing the plan')
    .option('--plan <file>', 'run a plan saved with `plan -o json` (refused if the cluster changed since)')
    .action((opts, cmd: Command) => run(async () => (await import('./commands/upgrade.js')).upgrade(globals(cmd), opts)));
  runOptions(upgradeCmd);

  runOptions(
    program
      .command('resume')
      .description('continue the interrupted upgrade recorded in the journal (re-reads the cluster first)')
      .option('-y, --yes', 'do not ask for confirmation'),
  ).action((opts, cmd: Command) => run(async () => (await import('./commands/resume.js')).resume(globals(cmd), opts)));
  program
    .command('abandon')
    .description('forget the interrupted upgrade recorded in the journal, release its cluster lock, list nodes it left cordoned')
    .action((_opts, cmd: Command) => run(async () => (await import('./commands/resume.js')).abandon(globals(cmd))));

  const lab = program.command('lab').description('the embedded lab: a simulated Proxmox cluster to try pve-k3s on');
  lab
    .command('init')
    .description('create a fresh lab and write its inventory to ./pve-k3s.yaml')
    .option('--servers <n>', 'k3s servers', '1')
    .option('--workers <n>', 'k3s agents', '3')
    .option('--hosts <n>', 'Proxmox hosts', '2')
    .option('--k3s-version <version>', 'k3s version the nodes run (default: two patches behind stable)')
    .option('--dir <dir>', 'where the lab keeps its state (default: the user state dir)')
    .option('--inventory <file>', 'where to write the inventory', 'pve-k3s.yaml')
    .option('--force', 'overwrite an inventory that is not a lab inventory')
    .option('--bare', 'containers without k3s or its LXC settings, one missing: to try pve-k3s install')
    .action((opts, cmd: Command) => run(async () => (await import('./commands/lab.js')).labInit(globals(cmd), opts)));
  lab
    .command('reset')
    .description('recreate the lab of the current inventory from scratch')
    .action((_opts, cmd: Command) => run(async () => (await import('./commands/lab.js')).labReset(globals(cmd))));
  lab
    .command('status')
    .description("show the lab's hosts and containers as the simulation sees them")
    .action((_opts, cmd: Command) => run(async () => (await import('./commands/lab.js')).labStatus(globals(cmd))));
  program
    .command('backup')
    .description("back up each server's k3s token and datastore onto this machine (dated, checksummed; optional vzdump)")
    .option('--keep <n>', 'keep only the newest n backups of the cluster')
    .option('--to <dir>', 'where backups go (default: <state dir>/backups/<cluster>)')
    .option('--offline', 'without sqlite3 in the container: copy state.db with k3s stopped for a moment')
    .option('--vzdump', "also back up every node's container with vzdump, followed to its end")
    .addOption(new Option('--mode <mode>', 'vzdump mode').choices(['snapshot', 'suspend', 'stop']))
    .option('--storage <storage>', "vzdump target storage (default: vzdump's)")
    .action((opts, cmd: Command) => run(async () => (await import('./commands/backup.js')).backup(globals(cmd), opts)));

  program
    .command('restore')
    .description("restore a backup's datastore and token (plan shown first; refuses a backup whose checksums do not match)")
    .argument('<backup>', 'the backup directory')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((dir: string, opts, cmd: Command) => run(async () => (await import('./commands/backup.js')).restore(globals(cmd), dir, opts)));

  program
    .command('doctor')
    .description('check the known problems of k3s in Proxmox LXC; each failure with its cause and fix')
    .argument('[node]', 'check only this node (and its host)')
    .option('--fix', 'apply the safe fixes (shown first)')
    .action((node: string | undefined, opts, cmd: Command) =>
      run(async () => (await import('./commands/doctor.js')).doctor(globals(cmd), node, opts)),
    );

  program
    .command('metrics')
    .description('Prometheus text exposition: node up/ready/versions, last backup, pending upgrade')
    .option('--listen <addr>', 'serve it over HTTP at /metrics, e.g. 127.0.0.1:9480 (":9480" = every interface)')
    .action((opts, cmd: Command) => run(async () => (await import('./commands/metrics.js')).metrics(globals(cmd), opts)));

  program
    .command('discover')
    .description('find the k3s nodes among the LXC containers of a Proxmox host or cluster; print or write (update) an inventory')
    .option(
      '--host <dest>',
      'a Proxmox host: ssh destination, `local`, or lab:<host> (repeat for each node to look into)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--tag <tag>', 'keep containers with this Proxmox tag', 'k3s')
    .option('--all', 'keep every container that runs a k3s service, tagged or not')
    .option('--write <file>', 'write the inventory to FILE, updating it in place if it exists (default: print it)')
    .option('--cluster <name>', 'cluster name for a new inventory (default: k3s)')
    .option('--ssh-config <file>', 'ssh config file for --host destinations (ssh -F)')
    .option('--lab-dir <dir>', "the lab for lab:<host> (default: the inventory's lab, else the one `lab init` makes)")
    .option(
      '--api <url>',
      'list containers through the Proxmox REST API (https://host:8006); token from $PVE_API_TOKEN or --api-token-file',
    )
    .option('--api-token-file <file>', 'file holding the API token USER@REALM!TOKENID=UUID')
    .option('--ca <file>', "verify the API's certificate against this CA (e.g. /etc/pve/pve-root-ca.pem)")
    .option('--fingerprint <sha256>', "pin the API's certificate by its SHA-256 fingerprint (pvenode cert info)")
    .option('--insecure', "do not verify the API's certificate")
    .action((opts, cmd: Command) => run(async () => (await import('./commands/discover.js')).discoverCommand(globals(cmd), opts)));
  program
    .command('import')
    .description("convert another tool's inventory into a pve-k3s inventory")
    .command('ansible')
    .description('an Ansible inventory (INI or YAML): k3s-io/k3s-ansible, techno-tim, or vmid/pve_host host vars')
    .argument('<inventory>', 'the Ansible inventory file')
    .option('--out <file>', 'write the pve-k3s inventory here (default: print it)')
    .option('--cluster <name>', 'cluster name (default: from the file name)')
    .option('--force', 'overwrite --out if it exists')
    .action((file: string, opts, cmd: Command) =>
      run(async () => (await import('./commands/import.js')).importAnsible(globals(cmd), file, opts)),
    );
  lab
    .command('migrate')
    .description('move a lab container to another lab host, like pct migrate')
    .argument('<vmid>', 'the container')
    .argument('<host>', 'the lab host to move it to')
    .option('--restart', 'a running container: stop, move, start (pct migrate --restart)')
    .action((vmid: string, host: string, opts, cmd: Command) =>
      run(async () => (await import('./commands/lab-migrate.js')).labMigrate(globals(cmd), vmid, host, opts)),
    );

  program
    .command('install')
    .description(
      'create and configure the containers of the inventory for k3s, install the servers then the agents, wait Ready (shows its plan first; safe to run again)',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing the plan')
    .option('--version <version>', "k3s version for a new cluster (default: k3s.version, else the channel's latest)")
    .option('--channel <name>', 'channel for a new cluster (default: k3s.channel, else stable)')
    .option('--airgap <dir>', 'directory ON THE PROXMOX HOSTS with the k3s binary, images tarball and install.sh (needs --version)')
    .option('--ready-timeout <duration>', 'how long each node may take to be Ready (default upgrade.readyTimeout)')
    .action((opts, cmd: Command) => run(async () => (await import('./commands/install.js')).install(globals(cmd), opts)));
  program
    .command('join')
    .description('add one node of the inventory to the running cluster (its container created and configured as install does)')
    .argument('<node>', 'the node, as named in the inventory')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing the plan')
    .option('--airgap <dir>', 'directory ON THE PROXMOX HOST with the k3s binary, images tarball and install.sh')
    .option('--version <version>', "the air-gap bundle's k3s version")
    .option('--ready-timeout <duration>', 'how long the node may take to be Ready')
    .action((node: string, opts, cmd: Command) => run(async () => (await import('./commands/install.js')).join(globals(cmd), node, opts)));
  program
    .command('uninstall')
    .description('drain a node, delete it from the cluster and run the k3s uninstall script in its container (asks first)')
    .argument('<node>', 'the node, as named in the inventory')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'stop after showing what it would do')
    .option('--force', 'also the only running server (destroys the cluster)')
    .action((node: string, opts, cmd: Command) =>
      run(async () => (await import('./commands/uninstall.js')).uninstall(globals(cmd), node, opts)),
    );
  program
    .command('kubeconfig')
    .description(
      "fetch the admin kubeconfig from a server, point it at the server's address, merge it into ~/.kube/config as a context named after the cluster",
    )
    .option('--out <file>', 'write it to FILE instead of merging (mode 0600)')
    .option('--context <name>', 'context (and cluster and user) name (default: the cluster name)')
    .action((opts, cmd: Command) => run(async () => (await import('./commands/kubeconfig.js')).kubeconfig(globals(cmd), opts)));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram((load) => {
    pending = load();
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
  if (!pending) return 0;
  return pending;
}
