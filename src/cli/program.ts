/**
 * How a command is declared. Each file of src/cli/specs/ declares one command (its name,
 * help, Examples, arguments and typed options) and, in its action, lazily imports the body that
 * does the work (src/cli/commands/). The table in specs/index.ts lists them; buildProgram
 * assembles the tree and gives every command the global options, so adding a command is adding
 * its spec file and its line in that table (a test checks that no spec file is left out).
 *
 * Loading a spec costs nothing but commander: `--help` and completion never load a body.
 */
import { Argument, Command, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { GlobalOptions, OutputFormat } from './context.js';

export { Argument, Command, Option };
export type { CommandUnknownOpts };

/** A command body: gets the global options, returns the exit status. */
export type Body = (g: GlobalOptions) => Promise<number>;
/** Hands a command's body to the entry point, which runs it after parsing. */
export type Run = (cmd: CommandUnknownOpts, body: Body) => void;

/** A command declaration: builds its commander Command (standalone; buildProgram attaches it). */
export type Spec = (run: Run) => CommandUnknownOpts;
/** A line of the command table: a spec, or a spec with subcommands of its own. */
export type Entry = Spec | { readonly spec: Spec; readonly children: readonly Entry[] };

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const satisfies readonly OutputFormat[];

/** The global options, on every command so they may come before or after the command name. */
export function addGlobalOptions(cmd: CommandUnknownOpts, root: boolean): void {
  const heading = root ? 'Options:' : 'Global Options:';
  const add = (o: Option): void => {
    cmd.addOption(o.helpGroup(heading));
  };
  add(new Option('-c, --config <file>', 'inventory file (default: $PVE_K3S_CONFIG, else ./pve-k3s.yaml, else the user config dir)'));
  const output = new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS);
  add(root ? output.default('table') : output);
  add(new Option('-q, --quiet', 'no progress or notes on stderr (warnings and errors still shown)'));
  add(new Option('--no-color', 'no colours (also when $NO_COLOR is set)'));
  add(new Option('--verbose', 'show details: remote output, round trips, stack of causes'));
  add(new Option('--no-persist', 'close SSH connections when the command ends (default: kept 60s for the next command)'));
}

type Key = 'config' | 'output' | 'quiet' | 'color' | 'verbose' | 'persist';

/** The global options as given: the value nearest the command that was given on the command line wins. */
export function globalsOf(cmd: CommandUnknownOpts, env: NodeJS.ProcessEnv = process.env): GlobalOptions {
  const chain: CommandUnknownOpts[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) chain.push(c);
  const given = (key: Key): unknown => {
    for (const c of chain) if (c.getOptionValueSource(key) === 'cli') return c.getOptionValue(key);
    return undefined;
  };
  const config = given('config');
  const output = given('output');
  const noColor = given('color') === false || (env['NO_COLOR'] ?? '') !== '';
  return {
    config: typeof config === 'string' ? config : undefined,
    output: typeof output === 'string' ? (output as OutputFormat) : 'table',
    verbose: given('verbose') === true,
    quiet: given('quiet') === true,
    color: !noColor,
    persist: given('persist') !== false,
  };
}

const TEXT_ONLY = new WeakMap<CommandUnknownOpts, string>();

/** Marks a command whose output has one format (a script, Prometheus text, a kubeconfig): -o json|yaml is refused, exit 2. */
export function textOnly(cmd: CommandUnknownOpts, prints: string): void {
  TEXT_ONLY.set(cmd, prints);
}

/** What a text-only command prints ("a shell script"), else undefined. */
export function textOnlyOf(cmd: CommandUnknownOpts): string | undefined {
  return TEXT_ONLY.get(cmd);
}

/** Adds an Examples section to the help, kubectl style: a comment line, then the command. */
export function examples(cmd: CommandUnknownOpts, list: ReadonlyArray<readonly [comment: string, command: string]>): void {
  const text = list.map(([comment, command]) => `  # ${comment}\n  ${command}`).join('\n\n');
  cmd.addHelpText('after', `\nExamples:\n${text}\n`);
}

/** Every command of the tree, depth first (the root first). */
export function walk(cmd: CommandUnknownOpts): CommandUnknownOpts[] {
  return [cmd, ...cmd.commands.flatMap((c) => walk(c as CommandUnknownOpts))];
}
