/**
 * A real OpenSSH server on 127.0.0.1 for end-to-end tests: its own host key, one fresh client
 * key, and a client config whose known_hosts pins the server key, so host keys ARE verified.
 * Fixture programs (a fake `pct`...) go in `binDir`, first on the session's PATH.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface SshdHarness {
  /** Host alias defined in `configFile` (use it as the ssh destination). */
  alias: string;
  /** Client config for `ssh -F`. */
  configFile: string;
  /** Directory first on PATH in every session (authorized_keys `environment=`). */
  binDir: string;
  port: number;
  /** known_hosts holding the server key for `[127.0.0.1]:port`. */
  knownHostsFile: string;
  /** The server's public host key line, `ssh-ed25519 AAAA...`. */
  hostKeyPub: string;
  /** sshd's log (LogLevel VERBOSE). */
  logFile: string;
  /** The user sessions log in as (the user running the tests). */
  user: string;
  /** Scratch directory removed by stop(). */
  dir: string;
  /** Write an executable into binDir (a `#!/bin/sh` line is added when missing). */
  addProgram(name: string, body: string): string;
  /** Generate a throwaway ed25519 key pair; returns the public key line. */
  newKeyPub(name: string): string;
  stop(): Promise<void>;
}

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd', '/opt/homebrew/sbin/sshd'];

/** The sshd binary (an absolute path: sshd refuses to re-exec otherwise); PVE_K3S_SSHD overrides. */
export function findSshd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.PVE_K3S_SSHD ? [env.PVE_K3S_SSHD] : SSHD_CANDIDATES;
  return candidates.find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * Why the e2e tests cannot run here, or undefined when they can. Under CI it is always
 * undefined: a missing sshd must FAIL there (startSshd throws), never skip silently.
 */
export function sshdSkipReason(
  env: NodeJS.ProcessEnv = process.env,
  has: { sshd: boolean; client: boolean } = { sshd: findSshd() !== undefined, client: onPath('ssh') && onPath('ssh-keygen') },
): string | undefined {
  if (isCi(env)) return undefined;
  if (!has.sshd) return 'OpenSSH server (sshd) is not installed: `apt-get install openssh-server` to run the e2e tests';
  if (!has.client) return 'OpenSSH client (ssh, ssh-keygen) is not installed: `apt-get install openssh-client`';
  return undefined;
}

export async function startSshd(opts: { alias?: string; forceCommand?: string } = {}): Promise<SshdHarness> {
  const sshd = findSshd();
  if (sshd === undefined) {
    throw new Error(
      `sshd not found (looked in ${process.env.PVE_K3S_SSHD ?? SSHD_CANDIDATES.join(', ')}): install openssh-server; under CI the e2e tests fail rather than skip`,
    );
  }
  const alias = opts.alias ?? 'pve-e2e';
  const user = userInfo().username;
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-sshd-'));
  const binDir = join(dir, 'bin');
  mkdirSync(binDir);
  // sshd running as root needs its privilege-separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'client_key');
  keygen(hostKey);
  keygen(clientKey);
  const hostKeyPub = pubKeyLine(hostKey);
  writeFileSync(join(dir, 'authorized_keys'), `environment="PATH=${binDir}:/usr/bin:/bin" ${pubKeyLine(clientKey)}\n`);

  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configFile = join(dir, 'sshd_config');
    writeFileSync(configFile, sshdConfig(dir, port, hostKey, opts.forceCommand));
    const logFile = join(dir, 'sshd.log');
    const logFd = openSync(logFile, 'a');
    const child = spawn(sshd, ['-D', '-e', '-f', configFile], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    try {
      await waitForBanner(port, child, logFile);
    } catch (e) {
      lastError = e as Error;
      child.kill('SIGKILL');
      continue;
    }
    const knownHostsFile = join(dir, 'known_hosts');
    writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKeyPub}\n`);
    const clientConfig = join(dir, 'ssh_config');
    writeFileSync(clientConfig, clientConfigText({ alias, port, user, clientKey, knownHostsFile }));
    return {
      alias,
      configFile: clientConfig,
      binDir,
      port,
      knownHostsFile,
      hostKeyPub,
      logFile,
      user,
      dir,
      addProgram(name, body) {
        const p = join(binDir, name);
        writeFileSync(p, body.startsWith('#!') ? body : `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        return p;
      },
      newKeyPub(name) {
        const p = join(dir, name);
        keygen(p);
        return pubKeyLine(p);
      },
      async stop() {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('sshd did not start');
}

function sshdConfig(dir: string, port: number, hostKey: string, forceCommand?: string): string {
  return [
    // Every session runs this instead (the client's command in $SSH_ORIGINAL_COMMAND).
    ...(forceCommand !== undefined ? [`ForceCommand ${forceCommand}`] : []),
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `AllowUsers ${userInfo().username}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitUserEnvironment yes',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'MaxSessions 20',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

function clientConfigText(o: { alias: string; port: number; user: string; clientKey: string; knownHostsFile: string }): string {
  return [
    `Host ${o.alias}`,
    '  HostName 127.0.0.1',
    `  Port ${o.port}`,
    `  User ${o.user}`,
    `  IdentityFile "${o.clientKey}"`,
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    `  UserKnownHostsFile "${o.knownHostsFile}"`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    '  PasswordAuthentication no',
    '  KbdInteractiveAuthentication no',
    '  ConnectTimeout 5',
    '',
  ].join('\n');
}

function keygen(path: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pve-k3s-e2e', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.error?.message ?? r.stderr}`);
}

/** `ssh-ed25519 AAAA...` without the comment. */
function pubKeyLine(privateKey: string): string {
  const [type, key] = readFileSync(`${privateKey}.pub`, 'utf8').trim().split(/\s+/);
  return `${type} ${key}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the server sends its `SSH-2.0-` banner; rejects if sshd exits first. */
async function waitForBanner(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}): ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    }
    if (await bannerSeen(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not accept connections on 127.0.0.1:${port} within 10 s: ${readFileSync(logFile, 'utf8')}`);
}

function bannerSeen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-2.0-')));
  });
}

/** SIGTERM, then SIGKILL after 3 s: resolves when the child has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
