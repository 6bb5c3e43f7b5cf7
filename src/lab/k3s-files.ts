/**
 * The files upstream's install.sh writes (systemd unit, env file), byte for byte, and their
 * parsing back (so the lab knows how a service was configured from its files alone).
 */
export const BIN = '/usr/local/bin/k3s';
export const SYSTEMD_DIR = '/etc/systemd/system';

/** The content of a k3s binary of `version` (the lab reads the version back from it). */
export function binaryContent(version: string): string {
  return `\x7fELF k3s ${version} (simulated by the pve-k3s lab)\n`;
}

/** The version of a k3s binary file's content (e.g. one pushed into a container for an air gap). */
export function binaryVersion(content: string): string | undefined {
  return /^\x7fELF k3s (v\S+) \(simulated/.exec(content)?.[1];
}

export function unitPath(service: string): string {
  return `${SYSTEMD_DIR}/${service}.service`;
}
export function envPath(service: string): string {
  return `${SYSTEMD_DIR}/${service}.service.env`;
}

/** install.sh's quote(): wrap in single quotes, ' becomes '\''. */
export function shQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The unit file create_systemd_service_file() writes for `k3s <cmd> <args...>`. */
export function renderUnit(service: string, cmd: string, args: readonly string[]): string {
  // quote_indent's output loses its final newline in the $(...) substitution.
  const exec = `${cmd} \\${args.map((a) => `\n\t${shQuote(a)} \\`).join('')}`;
  return `[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-${envPath(service)}
KillMode=process
Delegate=yes
User=root
# Having non-zero Limit*s causes performance problems due to accounting overhead
# in the kernel. We recommend using cgroups to do container-local accounting.
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=${BIN} \\
    ${exec}

`;
}

/** create_env_file(): exported K3S_x and CONTAINERD_x vars (sorted, as `sh -c export` lists them), then proxies. */
export function renderEnvFile(env: Readonly<Record<string, string>>): string {
  const names = Object.keys(env).sort();
  const k3s = names.filter((n) => /^(K3S|CONTAINERD)_/.test(n));
  const proxy = names.filter((n) => /^(NO|HTTP|HTTPS)_PROXY/i.test(n));
  return [...k3s, ...proxy].map((n) => `${n}=${shQuote(env[n] ?? '')}\n`).join('');
}

/** ExecStart's words after the binary: [cmd, ...args]. */
export function parseUnitExec(unit: string): string[] {
  const lines = unit.split('\n');
  const start = lines.findIndex((l) => l.startsWith('ExecStart='));
  if (start < 0) return [];
  let text = '';
  for (let i = start; i < lines.length; i++) {
    const l = lines[i] ?? '';
    const cont = l.endsWith('\\');
    text += `${cont ? l.slice(0, -1) : l} `;
    if (!cont) break;
  }
  const words = splitQuoted(text.slice('ExecStart='.length));
  return words.slice(1);
}

/** Parses `K3S_X='v'` lines. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) out[m[1]] = splitQuoted(m[2] ?? '').join(' ');
  }
  return out;
}

/** Splits on blanks honouring single and double quotes, backslashes and the '\'' idiom (unit
 *  ExecStart lines, env files, and INSTALL_K3S_EXEC as the installer's `eval set --` reads it). */
export function splitQuoted(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      cur += text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
