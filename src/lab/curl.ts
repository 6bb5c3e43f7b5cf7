/**
 * `curl [-sSfLo] URL` in a container: the install script URL answers the simulated install.sh,
 * the channels URL the collection, `file://` reads the container's file; other hosts fail to
 * resolve, other paths answer 404 (exit 22 with -f).
 */
import { INSTALL_SCRIPT } from './installer.js';
import { machineRead, machineWrite, type Machine } from './machine.js';
import { fail, ok, type ExecContext } from './context.js';
import type { ExecResult } from './sh.js';

export function runCurl(ctx: ExecContext, m: Machine, args: string[]): ExecResult {
  let silent = false;
  let showError = false;
  let failOnHttp = false;
  let output: string | undefined;
  const urls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-o' || a === '--output') {
      output = args[++i];
      continue;
    }
    if (a === '--silent') {
      silent = true;
      continue;
    }
    if (a === '--fail') {
      failOnHttp = true;
      continue;
    }
    if (a === '--show-error') {
      showError = true;
      continue;
    }
    if (a === '--location' || a === '--insecure') continue;
    if (/^-[sSfLko]+$/.test(a)) {
      for (const f of a.slice(1)) {
        if (f === 's') silent = true;
        else if (f === 'S') showError = true;
        else if (f === 'f') failOnHttp = true;
        else if (f === 'o') output = args[++i];
      }
      continue;
    }
    if (a.startsWith('-')) return fail(2, `curl: option ${a}: the lab does not model it\n`);
    urls.push(a);
  }
  const url = urls[0];
  if (url === undefined) return fail(2, 'curl: no URL specified!\n');
  const say = (code: number, msg: string) => fail(code, !silent || showError ? `curl: (${code}) ${msg}\n` : '');
  const s = ctx.store.read();
  let body: string | undefined;
  if (url.startsWith('file://')) {
    const f = machineRead(m, url.slice('file://'.length));
    if ('error' in f) return say(37, `Couldn't open file ${url.slice('file://'.length)}`);
    body = f.content;
  } else if (url.replace(/\/$/, '') === s.installScriptUrl.replace(/\/$/, '')) body = INSTALL_SCRIPT;
  else if (/^https:\/\/update\.k3s\.io\/v1-release\/channels\/?$/.test(url)) body = JSON.stringify(s.channels);
  const host = /^https?:\/\/([^/:]+)/.exec(url)?.[1];
  if (body === undefined) {
    if (host === undefined) return say(3, 'URL rejected: Malformed input to a URL function');
    if (!['get.k3s.io', 'update.k3s.io', 'github.com', new URL(s.installScriptUrl).hostname].includes(host))
      return say(6, `Could not resolve host: ${host}`);
    if (failOnHttp) return say(22, 'The requested URL returned error: 404');
    body = '404: Not Found';
  }
  if (output !== undefined && output !== '-') {
    const e = machineWrite(m, output, { content: body, append: false });
    if (e !== undefined) return say(23, 'Failure writing output to destination');
    return ok();
  }
  return ok(body);
}
