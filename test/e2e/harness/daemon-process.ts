/**
 * Starting and stopping the harness's daemon (daemon.ts, harness-daemon.ts) for a directory
 * holding its config.json, and the command lines that call it through the Perl client.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/fixtures.js';
import { CLIENT_NAME, daemonDir, daemonSocket } from './ct-root.js';
import { stopChild } from './sshd.js';

/** Perl, which every Debian has (perl-base): the client's interpreter. */
export const PERL = '/usr/bin/perl';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface DaemonProcess {
  /** A sh command line that calls the daemon: `<perl> <client> <socket> <words...>` (quoted). */
  call(...words: string[]): string;
  stop(): Promise<void>;
}

/** Starts the daemon for `dir` (its config.json written); resolves once it listens. */
export async function startDaemon(dir: string): Promise<DaemonProcess> {
  const dDir = daemonDir(dir);
  mkdirSync(dDir, { recursive: true });
  const client = join(dDir, CLIENT_NAME);
  copyFileSync(join(repoRoot(), 'test', 'e2e', 'harness', CLIENT_NAME), client);
  const js = join(repoRoot(), 'dist', 'test', 'e2e', 'harness', 'harness-daemon.js');
  // Its stdin is a pipe from this process: when this process ends, however it ends, the daemon does.
  const child = spawn(process.execPath, [js, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      if (!out.includes('ready\n')) return;
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      reject(new Error(`the harness daemon (${js}) exited (${code ?? signal}) before it listened: ${out}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', reject);
  });
  // A test that never calls stop() must still be able to end.
  child.unref();
  for (const s of [child.stdin, child.stdout]) (s as { unref?: () => void } | null)?.unref?.();
  return {
    call: (...words) => [PERL, client, daemonSocket(dDir), ...words].map(q).join(' '),
    stop: () => stopChild(child),
  };
}
