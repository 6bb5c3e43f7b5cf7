/**
 * The simulated get.k3s.io, following upstream install.sh step by step: role from
 * INSTALL_K3S_EXEC/args/K3S_URL, version from INSTALL_K3S_VERSION or the channel, hash-checked
 * download, env file rewritten from the CURRENT environment, unit file, and a restart only when
 * the binary, unit or env file changed (or INSTALL_K3S_FORCE_RESTART=true).
 */
import { createHash } from 'node:crypto';
import { channelLatest, versionExists } from './catalog.js';
import { consumeChannelFault } from './channel-faults.js';
import { LAB_HOOKS } from './hooks.js';
import { BIN, binaryContent, binaryVersion, envPath, renderEnvFile, renderUnit, splitQuoted, unitPath } from './k3s-files.js';
import { findContainer, serviceStatus, startService } from './k3s-model.js';
import { readFile } from './vfs.js';
import type { ContainerRef, ExecContext } from './context.js';
import type { ExecResult } from './sh.js';
import type { LabState, Located, ServiceName } from './types.js';

const GITHUB = 'https://github.com/k3s-io/k3s/releases';
const DEFAULT_CHANNEL_URL = 'https://update.k3s.io/v1-release/channels';

/** The program the simulated install script runs (found only by that name, see container-exec.ts). */
export const INSTALL_HOOK = '__pve_k3s_lab_install';

/** What `curl <installScriptUrl>` returns: a script whose one command is the simulated installer. */
export const INSTALL_SCRIPT = `#!/bin/sh
# The k3s install script as simulated by the pve-k3s lab (behaviour modelled in src/lab/installer.ts).
set -e
${INSTALL_HOOK} "$@"
`;

class Fatal extends Error {}

/** What the install script was run with: its environment and arguments (`sh -s - <args>`). */
export interface InstallerRun {
  env: Record<string, string>;
  scriptArgs: string[];
}

export async function runInstaller(ctx: ExecContext, ref: ContainerRef, run: InstallerRun): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  const info = (m: string) => {
    stdout += `[INFO]  ${m}\n`;
  };
  const fatal = (m: string): never => {
    stderr += `[ERROR]  ${m}\n`;
    throw new Fatal(m);
  };
  try {
    await install(ctx, ref, { ...run, info, fatal });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (e instanceof Fatal) return { code: 1, stdout, stderr };
    if (e instanceof JobFailed) return { code: 1, stdout, stderr: stderr + e.message };
    throw e;
  }
}

class JobFailed extends Error {}

async function install(
  ctx: ExecContext,
  ref: ContainerRef,
  run: InstallerRun & { info: (m: string) => void; fatal: (m: string) => never },
): Promise<void> {
  const { env, scriptArgs, info } = run;
  // Explicitly typed, so that a call narrows as a throw does (TS needs the annotation on the name it calls).
  const fatal: (m: string) => never = run.fatal;
  const words = [...splitQuoted(env.INSTALL_K3S_EXEC ?? ''), ...scriptArgs];
  let cmd: string;
  const first = words[0];
  if (first === undefined || first === '' || first.startsWith('-')) {
    if (!env.K3S_URL) cmd = 'server';
    else {
      if (!env.K3S_TOKEN && !env.K3S_TOKEN_FILE)
        fatal("Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined.");
      cmd = 'agent';
    }
  } else {
    cmd = first;
    words.shift();
  }
  const url = env.K3S_URL ?? '';
  if (url !== '' && !url.startsWith('https://')) fatal(`Only https:// URLs are supported for K3S_URL (have ${url})`);
  if (env.INSTALL_K3S_NAME) fatal('the lab installer does not model INSTALL_K3S_NAME (services are k3s and k3s-agent)');
  if (cmd !== 'server' && cmd !== 'agent') fatal(`the lab installer models only server and agent (got ${cmd})`);
  if (
    (env.INSTALL_K3S_BIN_DIR && env.INSTALL_K3S_BIN_DIR !== '/usr/local/bin') ||
    (env.INSTALL_K3S_SYSTEMD_DIR && env.INSTALL_K3S_SYSTEMD_DIR !== '/etc/systemd/system')
  ) {
    fatal('the lab installer models only /usr/local/bin and /etc/systemd/system');
  }
  const service: ServiceName = cmd === 'server' ? 'k3s' : 'k3s-agent';
  const hashes = (loc: Located) => [BIN, unitPath(service), envPath(service)].map((p) => JSON.stringify(readFile(loc.ct.fs, p))).join('|');

  const pre = ctx.store.read();
  const loc0 = findContainer(pre, ref.host, ref.vmid);
  if (!loc0) fatal('container vanished');
  const preHashes = hashes(loc0);
  const installed = loc0.ct.k3s.binaryVersion;
  const hashMismatch = loc0.ct.switches.hashMismatch === true;

  let newVersion: string | undefined;
  const skip = env.INSTALL_K3S_SKIP_DOWNLOAD;
  if (skip === 'true' || skip === 'binary') {
    info('Skipping k3s download and verify');
    // Air gap: the binary was put in place (pct push) before the script ran.
    const file = readFile(loc0.ct.fs, BIN);
    const pushed = 'content' in file ? binaryVersion(file.content) : undefined;
    if (pushed === undefined && installed === undefined) fatal(`Executable k3s binary not found at ${BIN}`);
    if (pushed !== undefined && pushed !== installed) newVersion = pushed;
  } else {
    let version = env.INSTALL_K3S_VERSION ?? '';
    if (version === '') {
      const channel = env.INSTALL_K3S_CHANNEL || 'stable';
      info(`Finding release for channel ${channel}`);
      version = ctx.store.update((s) => resolveChannel(s, env.INSTALL_K3S_CHANNEL_URL || DEFAULT_CHANNEL_URL, channel));
    }
    info(`Using ${version} as release`);
    info(`Downloading hash ${GITHUB}/download/${version}/sha256sum-amd64.txt`);
    if (!versionExists(pre.channels, version)) fatal('Download failed');
    if (installed === version && !hashMismatch) {
      info('Skipping binary downloaded, installed k3s matches hash');
    } else {
      info(`Downloading binary ${GITHUB}/download/${version}/k3s`);
      // The node's previous start stops counting here: a download does not wait for Ready.
      settleRestarts(ctx, ctx.now(), `${ref.host}/${ref.vmid}/`);
      ctx.meter?.('install', pre.timing.installMs);
      await ctx.sleep(pre.timing.installMs);
      info('Verifying binary download');
      const expected = sha256(binaryContent(version));
      if (hashMismatch) fatal(`Download sha256 does not match ${expected}, got ${sha256(`corrupt ${version}`)}`);
      info(`Installing k3s to ${BIN}`);
      newVersion = version;
    }
  }
  info('Skipping installation of SELinux RPM');

  const now = ctx.now();
  const outcome = ctx.store.update((s) => {
    const loc = findContainer(s, ref.host, ref.vmid);
    if (!loc) return { lines: [] as string[], restart: false };
    const { ct } = loc;
    const lines: string[] = [];
    if (newVersion !== undefined) {
      ct.fs[BIN] = { content: binaryContent(newVersion), mode: 0o755 };
      ct.k3s.binaryVersion = newVersion;
    }
    for (const l of ['kubectl', 'crictl', 'ctr']) {
      if (ct.fs[`/usr/local/bin/${l}`]) lines.push(`Skipping /usr/local/bin/${l} symlink to k3s, already exists`);
      else {
        lines.push(`Creating /usr/local/bin/${l} symlink to k3s`);
        ct.fs[`/usr/local/bin/${l}`] = { content: '', mode: 0o777, link: 'k3s' };
      }
    }
    lines.push('Creating killall script /usr/local/bin/k3s-killall.sh');
    ct.fs['/usr/local/bin/k3s-killall.sh'] = { content: '#!/bin/sh\n# k3s-killall.sh (lab)\n', mode: 0o755 };
    lines.push(`Creating uninstall script /usr/local/bin/${service}-uninstall.sh`);
    ct.fs[`/usr/local/bin/${service}-uninstall.sh`] = { content: '#!/bin/sh\n# uninstall (lab)\n', mode: 0o755 };
    lines.push(`env: Creating environment file ${envPath(service)}`);
    ct.fs[envPath(service)] = { content: renderEnvFile(env), mode: 0o600 };
    lines.push(`systemd: Creating service file ${unitPath(service)}`);
    ct.fs[unitPath(service)] = { content: renderUnit(service, cmd, words), mode: 0o644 };
    const existing = ct.k3s.services[service];
    if (env.INSTALL_K3S_SKIP_ENABLE === 'true') {
      ct.k3s.services[service] = existing ?? newService(false);
      return { lines, restart: false };
    }
    lines.push(`systemd: Enabling ${service} unit`);
    ct.k3s.services[service] = { ...(existing ?? newService(false)), enabled: true };
    if (env.INSTALL_K3S_SKIP_START === 'true') return { lines, restart: false };
    if (hashes(loc) === preHashes && env.INSTALL_K3S_FORCE_RESTART !== 'true') {
      lines.push('No change detected so skipping service start');
      return { lines, restart: false };
    }
    lines.push(`systemd: Starting ${service}`);
    startService(s, loc, { service, now, hooks: LAB_HOOKS });
    return { lines, restart: true };
  });
  for (const l of outcome.lines) info(l);
  if (outcome.restart) await waitForStart(ctx, ref, { service, startedAt: now });
}

function newService(running: boolean) {
  return { enabled: false, running, startedAt: 0, runningVersion: '', previousVersion: undefined, cluster: '', failure: undefined };
}

/**
 * `systemctl restart` of a Type=notify unit blocks until the service reports ready; a unit that
 * never does (an agent with a bad token) blocks forever, as TimeoutStartSec=0 says.
 */
export async function waitForStart(
  ctx: ExecContext,
  ref: ContainerRef,
  { service, startedAt }: { service: ServiceName; startedAt: number },
): Promise<void> {
  const s = ctx.store.read();
  meterRestart(ctx, `${ref.host}/${ref.vmid}/${service}`, { startedAt, restartMs: s.timing.restartMs });
  // A timer may fire a millisecond before Date.now() says it is due: without the loop the
  // service would still look `activating` and the wait below would never end.
  while (ctx.now() < startedAt + s.timing.restartMs / 2) await ctx.sleep(Math.max(1, startedAt + s.timing.restartMs / 2 - ctx.now()));
  const after = ctx.store.read();
  const loc = findContainer(after, ref.host, ref.vmid);
  const status = loc ? serviceStatus(after, { ct: loc.ct, svc: loc.ct.k3s.services[service], now: ctx.now() }) : 'inactive';
  if (status === 'failed') {
    throw new JobFailed(
      `Job for ${service}.service failed because the control process exited with error code.\nSee "systemctl status ${service}.service" and "journalctl -xeu ${service}.service" for details.\n`,
    );
  }
  if (status === 'activating') await new Promise<never>(() => {});
}

export { JobFailed };

/** What upstream's `curl -w %{url_effective} -L <channelUrl>/<channel>` piped to sed yields: the last path segment. */
function resolveChannel(s: LabState, channelUrl: string, channel: string): string {
  const known = /^https?:\/\/(update\.k3s\.io|127\.0\.0\.1(:\d+)?|localhost(:\d+)?)\/v1-release\/channels\/?$/.test(channelUrl);
  if (!known) return channel;
  const fault = consumeChannelFault(s, channel);
  if (fault?.latest !== undefined) return fault.latest.split('/').pop() ?? '';
  if (fault?.status !== undefined || fault?.body !== undefined) return channel;
  return channelLatest(s.channels, channel) ?? channel;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Starts whose second half (service up -> node Ready) is not metered yet, by context and service. */
const PENDING = new WeakMap<ExecContext, Map<string, { readyFrom: number; half: number }>>();

/**
 * Meters a restart as node work: the blocking half (until the service is up) at once; the
 * second half (until the node is Ready) when the service next restarts, only as far as it got
 * (a backup's start cut short by the install is not a whole restart: the install's download
 * starts without waiting for Ready), or at settleRestarts().
 */
function meterRestart(ctx: ExecContext, key: string, { startedAt, restartMs }: { startedAt: number; restartMs: number }): void {
  if (!ctx.meter) return;
  let pending = PENDING.get(ctx);
  if (!pending) PENDING.set(ctx, (pending = new Map()));
  const prev = pending.get(key);
  if (prev) ctx.meter('restart', Math.min(prev.half, Math.max(0, startedAt - prev.readyFrom)));
  ctx.meter('restart', restartMs / 2);
  pending.set(key, { readyFrom: startedAt + restartMs / 2, half: restartMs / 2 });
}

/**
 * Meters the second half of pending restarts (of the containers whose key starts with
 * `prefix`): in full when Ready by `now`, else as far as it got.
 */
export function settleRestarts(ctx: ExecContext, now: number, prefix = ''): void {
  const pending = PENDING.get(ctx);
  if (!pending || !ctx.meter) return;
  for (const [key, p] of pending) {
    if (!key.startsWith(prefix)) continue;
    ctx.meter('restart', Math.min(p.half, Math.max(0, now - p.readyFrom)));
    pending.delete(key);
  }
}
