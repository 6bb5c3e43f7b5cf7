/**
 * How a node was installed, read back from the node itself, and the install script that
 * upgrades it with the same options. The upstream script rewrites the env file from the
 * current environment and takes its role from the first argument, so an upgrade must
 * re-supply the role, the server URL, the token and the extra args: a bare `curl | sh` on
 * a worker would install a SERVER beside its agent.
 */
import { quoteArg } from '../shell/quote.js';
import type { Role } from '../inventory/types.js';
import { splitWords } from '../domain/text.js';

export const UNIT_DIR = '/etc/systemd/system';
export const SERVICE: Record<Role, string> = { server: 'k3s', agent: 'k3s-agent' };

export interface NodeInstallConfig {
  role: Role;
  /** Extra args after `server`/`agent` in ExecStart, unquoted. */
  args: string[];
  /** Variables of the service env file (K3S_*, CONTAINERD_*, proxies), unquoted. Secret. */
  env: Record<string, string>;
}

/** Parses the args of a k3s unit's ExecStart (continuation lines, single-quoted args). */
export function parseExecStart(unit: string): { command: string; args: string[] } | undefined {
  const lines = unit.split('\n');
  const start = lines.findIndex((l) => l.startsWith('ExecStart='));
  if (start < 0) return undefined;
  let text = '';
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const cont = /\\\s*$/.test(line);
    text += (cont ? line.replace(/\\\s*$/, '') : line) + ' ';
    if (!cont) break;
  }
  const words = splitWords(text.slice('ExecStart='.length));
  const [binary, command, ...args] = words;
  if (binary === undefined || command === undefined) return undefined;
  return { command, args };
}

/** Parses an env file written by install.sh (`NAME='value'` lines, `'\''` for quotes). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const words = splitWords(m[2]!);
    env[m[1]!] = words.join(' ');
  }
  return env;
}

export interface InstallScriptOptions {
  config: NodeInstallConfig;
  version: string;
  installScriptUrl: string;
  /** Extra INSTALL_K3S_* settings (e.g. INSTALL_K3S_SKIP_DOWNLOAD for air gaps). */
  installEnv?: Record<string, string>;
  /** The install script was saved at INSTALL_SCRIPT_PATH by this run moments ago (read ahead): do not download it again. @default false */
  scriptSaved?: boolean;
}

/**
 * Where the install script is saved inside the container while it runs: a directory only root
 * can write (a fixed name in /tmp could be planted or swapped by any user of the container
 * before root runs it).
 */
export const INSTALL_SCRIPT_DIR = '/var/lib/pve-k3s';
export const INSTALL_SCRIPT_PATH = `${INSTALL_SCRIPT_DIR}/install.sh`;

/** The argv that saves the install script at INSTALL_SCRIPT_PATH (read ahead, during the drain or the previous node's upgrade). */
export function saveInstallScriptArgv(url: string): string[] {
  return ['sh', '-c', `mkdir -p ${INSTALL_SCRIPT_DIR} && curl -sfL "$1" -o ${INSTALL_SCRIPT_PATH}`, 'sh', url];
}

/**
 * The script sent on stdin to `pct exec <vmid> -- sh -s`: exports the node's own env
 * (token included: stdin never shows in a process list), pins the version, downloads the
 * install script to a file (so a failed download fails the step instead of feeding an
 * empty script to sh), and runs it with the role and args as positional arguments.
 */
export function buildInstallScript(o: InstallScriptOptions): string {
  const lines = ['set -e'];
  const env: Record<string, string> = { ...o.config.env, ...o.installEnv, INSTALL_K3S_VERSION: o.version };
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`invalid environment variable name ${JSON.stringify(k)}`);
    lines.push(`${k}=${quoteArg(v)}`, `export ${k}`);
  }
  if (!o.scriptSaved) {
    lines.push(`mkdir -p ${INSTALL_SCRIPT_DIR}`);
    lines.push(`curl -sfL ${quoteArg(o.installScriptUrl)} -o ${INSTALL_SCRIPT_PATH}`);
  }
  // stdin from /dev/null: this script arrives on sh's stdin, which the install script must not read.
  lines.push(`sh ${INSTALL_SCRIPT_PATH} ${[o.config.role, ...o.config.args].map(quoteArg).join(' ')} </dev/null`);
  lines.push(`rm -f ${INSTALL_SCRIPT_PATH}`);
  return lines.join('\n') + '\n';
}

/** Replaces every secret value in text by `***` (for error messages and logs). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** Which env values are secrets. */
export function secretValues(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([k]) => /TOKEN|PASSWORD|SECRET|KEY/i.test(k))
    .map(([, v]) => v);
}
