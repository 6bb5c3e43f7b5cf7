/**
 * The harness's daemon: one long-lived Node process per set of real-sh hosts (started by
 * startRealShHosts, stopped by its stop()), holding the lab's code loaded, so that a call over
 * the harness costs a Perl start (lab-client.pl) instead of a Node start and the lab's imports.
 * `node daemon.js <rootsDir>` listens on `<rootsDir>/daemon/sock` (the directory is also bound
 * read-only into every container root, at INSIDE.daemon), prints `ready` on stdout, and ends
 * when its stdin closes (the test process is gone) or on SIGTERM.
 *
 * Each connection is one call: the client's argv, environment, cwd and whether its stdin is a
 * terminal; the daemon answers with the call's stdout, stderr and exit status. A call that
 * enters a root (an ssh session, `pct exec`) gets the bubblewrap argv to run: the client runs
 * it with its own stdin, stdout and stderr (so they stream as a real session's do) and reports
 * its wait status, and the daemon then syncs the root back. Nothing of the lab is kept between
 * calls: every call opens the lab's state afresh (tests change it from their own process).
 * When the client goes (killed, its connection closed), the call stops where it is: its sleeps
 * never end and it can no longer change the lab, as a killed program's process would.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { mkdirSync, rmSync } from 'node:fs';
import { labClock } from '../../../src/lab/clock.js';
import type { ExecContext } from '../../../src/lab/context.js';
import { LabStore } from '../../../src/lab/store.js';
import type { LabState } from '../../../src/lab/types.js';
import { daemonDir, daemonSocket } from './ct-root.js';
import type { RootsConfig } from './ct-sandbox.js';

/** A program's wait status as the client saw it (exactly one of the two is set). */
export interface WaitStatus {
  code: number | null;
  signal: number | null;
}

export interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

/** One call of a client, as a handler sees it. */
export interface Call {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  stdinIsTty: boolean;
  /** A model program's container, `<host> <vmid>` (its root's ref file); '' for other kinds. */
  ref: string;
  /** Aborted (reason: ClientGone) once the client is gone. */
  signal: AbortSignal;
  /** The client's stdin, to its end. */
  stdin(): Promise<string>;
  /** The client's stdin as it comes (once per call, instead of stdin()). */
  stdinChunks(): AsyncIterable<string>;
  /** Output now, before the answer's. */
  write(to: 'out' | 'err', data: string): void;
  /** Has the client run argv with its own stdio (env: its own when undefined); its wait status. */
  spawn(argv: readonly string[], env?: Record<string, string>): Promise<WaitStatus>;
}

export interface Daemon {
  rootsDir: string;
  cfg: RootsConfig;
}

export type Handler = (call: Call, d: Daemon) => Promise<Answer>;

export class ClientGone extends Error {
  constructor() {
    super('the client is gone');
  }
}

/**
 * The lab's execution context for one call: the state read afresh (a store of its own), the
 * lab's clock, and, once the client is gone, sleeps that never end and a store that refuses
 * every change.
 */
export function callContext(labDir: string, gone: AbortSignal): ExecContext {
  const store = new CallStore(labDir, gone);
  if (!store.exists()) throw new Error(`no lab in ${labDir} (state.json missing)`);
  const clock = labClock(labDir, store.read().init.clock ?? 'real');
  const never = () => new Promise<never>(() => {});
  return {
    store,
    now: () => clock.now(),
    sleep: (ms, signal) => {
      if (gone.aborted) return never();
      return clock.sleep(ms, signal ? AbortSignal.any([signal, gone]) : gone).catch((e: unknown) => {
        if (gone.aborted) return never();
        throw e;
      });
    },
    realHostFs: true,
  };
}

class CallStore extends LabStore {
  constructor(
    dir: string,
    private readonly gone: AbortSignal,
  ) {
    super(dir);
  }
  override update<T>(fn: (s: LabState) => T): T {
    if (this.gone.aborted) throw new ClientGone();
    return super.update(fn);
  }
  override replace(s: LabState): void {
    if (this.gone.aborted) throw new ClientGone();
    super.replace(s);
  }
}

// --- frames: one type byte, a 32-bit big-endian length, the payload ---

function frame(type: string, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

interface Request {
  kind: string;
  call: Omit<Call, 'signal' | 'stdin' | 'stdinChunks' | 'write' | 'spawn'>;
}

function parseRequest(payload: Buffer): Request {
  const f = payload.toString('utf8').split('\0');
  const [kind = '', cwd = '/', tty = '0', ref = '', argcText = '0'] = f;
  const argc = Number(argcText);
  const args = f.slice(5, 5 + argc);
  const env: Record<string, string> = {};
  for (const kv of f.slice(5 + argc)) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { kind, call: { args, env, cwd, stdinIsTty: tty === '1', ref: ref.trim() } };
}

function decodeWait(text: string): WaitStatus {
  const raw = Number(text);
  const sig = raw & 0x7f;
  return sig === 0 ? { code: (raw >> 8) & 0xff, signal: null } : { code: null, signal: sig };
}

/** Serves one connection: reads its request, runs the handler, answers. */
function serve(sock: Socket, handlers: Record<string, Handler>, d: Daemon): void {
  const gone = new AbortController();
  let buf: Buffer = Buffer.alloc(0);
  let started = false;
  let waiting: { type: string; resolve(b: Buffer): void; reject(e: Error): void } | undefined;
  // Streamed stdin: chunks not yet taken, whether it ended, and a reader waiting for more.
  const chunks: Buffer[] = [];
  let streaming = false;
  let ended = false;
  let wake: (() => void) | undefined;
  const expect = (type: string, ask: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      if (gone.signal.aborted) return reject(new ClientGone());
      waiting = { type, resolve, reject };
      sock.write(ask);
    });
  const onFrame = (type: string, payload: Buffer): void => {
    if (!started && type === 'Q') {
      started = true;
      void run(parseRequest(payload));
      return;
    }
    if (streaming && (type === 'I' || type === 'Z')) {
      if (type === 'I') chunks.push(Buffer.from(payload));
      else ended = true;
      wake?.();
      return;
    }
    const w = waiting;
    if (w && w.type === type) {
      waiting = undefined;
      w.resolve(payload);
      return;
    }
    process.stderr.write(`pve-k3s e2e daemon: unexpected frame ${JSON.stringify(type)} from a client\n`);
    sock.destroy();
  };
  async function* stdinChunks(): AsyncGenerator<string> {
    if (streaming) throw new Error('stdin is streamed once per call');
    streaming = true;
    sock.write(frame('T', ''));
    const text = new StringDecoder('utf8');
    for (;;) {
      const c = chunks.shift();
      if (c !== undefined) {
        const t = text.write(c);
        if (t !== '') yield t;
        continue;
      }
      if (ended) break;
      if (gone.signal.aborted) throw new ClientGone();
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    const rest = text.end();
    if (rest !== '') yield rest;
  }
  const run = async ({ kind, call }: Request): Promise<void> => {
    const handler = handlers[kind];
    let answer: Answer;
    try {
      if (!handler) throw new Error(`unknown kind of call "${kind}" (known: ${Object.keys(handlers).join(', ')})`);
      answer = await handler(
        {
          ...call,
          signal: gone.signal,
          stdin: async () => (await expect('I', frame('S', ''))).toString('utf8'),
          stdinChunks,
          write: (to, data) => {
            if (data !== '' && !gone.signal.aborted) sock.write(frame(to === 'out' ? 'O' : 'E', data));
          },
          spawn: async (argv, env) => {
            const fields =
              env === undefined
                ? ['inherit', '0']
                : ['set', String(Object.keys(env).length), ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
            return decodeWait((await expect('D', frame('B', [...fields, ...argv].join('\0')))).toString('latin1'));
          },
        },
        d,
      );
    } catch (e) {
      if (gone.signal.aborted) return;
      answer = { code: 255, stdout: '', stderr: `pve-k3s e2e ${kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n` };
    }
    if (gone.signal.aborted) return;
    const parts = [];
    if (answer.stdout !== '') parts.push(frame('O', answer.stdout));
    if (answer.stderr !== '') parts.push(frame('E', answer.stderr));
    parts.push(frame('X', String(answer.code)));
    sock.end(Buffer.concat(parts));
  };
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const type = buf.toString('latin1', 0, 1);
      const payload = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      onFrame(type, payload);
    }
  });
  sock.on('error', () => {}); // 'close' follows
  sock.on('close', () => {
    gone.abort(new ClientGone());
    waiting?.reject(new ClientGone());
    waiting = undefined;
    wake?.();
  });
}

/** Listens on the roots' socket; resolves once it accepts connections. */
export function listen(d: Daemon, handlers: Record<string, Handler>): Promise<Server> {
  const dir = daemonDir(d.rootsDir);
  mkdirSync(dir, { recursive: true });
  const path = daemonSocket(dir);
  rmSync(path, { force: true });
  const server = createServer((sock) => serve(sock, handlers, d));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
