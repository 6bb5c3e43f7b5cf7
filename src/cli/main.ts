/**
 * The CLI entry: builds the command tree from the command table (specs/), parses arguments, runs
 * the chosen command's lazily loaded body, and is the ONE place that turns errors into messages
 * and exit statuses (0 done or nothing to do, 1 failed, 2 usage or inventory error). Nothing
 * else calls process.exit.
 */
import { CommanderError } from '@commander-js/extra-typings';
import { Command, addGlobalOptions, globalsOf, textOnlyOf, walk, type CommandUnknownOpts, type Entry, type Run } from './program.js';
import { ALONE, aloneCommand } from './specs/alone.js';

function attach(parent: CommandUnknownOpts, entries: readonly Entry[], run: Run): void {
  for (const e of entries) {
    const cmd = typeof e === 'function' ? e(run) : e.spec(run);
    cmd.copyInheritedSettings(parent);
    parent.addCommand(cmd, { hidden: cmd.name().startsWith('__') }); // __complete: for the completion scripts
    if (typeof e !== 'function') attach(cmd, e.children, run);
  }
}

function commandPath(cmd: CommandUnknownOpts): string {
  const words: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/** The program with these commands (all of specs/index.ts, or the one the command line names: specs/alone.ts). */
export function buildProgramOf(entries: readonly Entry[], run: Run): CommandUnknownOpts {
  const program = new Command('pve-k3s')
    .description('k3s on Proxmox VE LXC containers: status, plans and rolling upgrades, install, backups, inventories')
    .option('-V, --version', 'print the pve-k3s and Node.js versions')
    // Global options before the command name belong to pve-k3s, after it to the command (each
    // command has them too): so `plan --version X` (the old spelling of --k3s-version) is plan's.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .helpCommand(true) // `pve-k3s help status` (the root's action would otherwise hide it)
    .exitOverride();
  addGlobalOptions(program, true);
  attach(program, entries, run);
  for (const cmd of walk(program).slice(1)) addGlobalOptions(cmd, false);
  // After the children copied the settings: an unknown command reaches the action, which says so.
  program.allowExcessArguments(true).action((opts, cmd) => {
    if (cmd.args.length > 0) (cmd as unknown as { unknownCommand(): never }).unknownCommand();
    if (opts.version) run(cmd, async (g) => (await import('./commands/version.js')).version(g));
    else cmd.help({ error: true });
  });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  // The lab's hosts are reached through its shell provider, loaded only when an inventory names it.
  const { registerShellProvider } = await import('../shell/provider.js');
  registerShellProvider('lab', async () => (await import('../lab/provider.js')).labShellProvider);
  let pending: Promise<number> | undefined;
  const alone = aloneCommand(argv);
  const entries = alone !== undefined ? [await ALONE[alone]!()] : (await import('./specs/index.js')).COMMANDS;
  const program = buildProgramOf(entries, (cmd, body) => {
    const g = globalsOf(cmd);
    const prints = textOnlyOf(cmd);
    pending =
      prints !== undefined && g.output !== 'table'
        ? import('../domain/errors.js').then(({ UsageError }) => {
            throw new UsageError(`${commandPath(cmd)} prints ${prints}: -o ${g.output} does not apply to it`, {
              hint: 'Run it without -o.',
            });
          })
        : import('./validate.js').then(({ checkOptions }) => {
            checkOptions(cmd.opts());
            return body(g);
          });
  });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help exits 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
  if (!pending) return 0;
  return pending;
}
