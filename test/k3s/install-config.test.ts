import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { buildInstallScript, parseEnvFile, parseExecStart, redact, secretValues } from '../../src/k3s/install-config.js';
import { splitWords } from '../../src/domain/text.js';
import { fixture } from '../helpers/fixtures.js';

test('GIVEN the unit files the real install script writes WHEN parsed THEN the role is the first word', () => {
  assert.deepEqual(parseExecStart(fixture('install-sh/k3s.service')), { command: 'server', args: [] });
  assert.deepEqual(parseExecStart(fixture('install-sh/k3s-agent.service')), { command: 'agent', args: [] });
});

test('GIVEN a unit with quoted extra args (install.sh quote_indent) WHEN parsed THEN each arg is unquoted', () => {
  const unit = "ExecStart=/usr/local/bin/k3s \\\n    server \\\n\t'--disable=traefik' \\\n\t'--node-label' \\\n\t'team=it'\\''s' \\\n\n";
  assert.deepEqual(parseExecStart(unit), { command: 'server', args: ['--disable=traefik', '--node-label', "team=it's"] });
});

test('GIVEN the env file the install script writes WHEN parsed THEN values are unquoted', () => {
  const env = parseEnvFile(fixture('install-sh/k3s-agent.service.env'));
  assert.equal(env['K3S_URL'], 'https://10.0.20.20:6443');
  assert.match(
    env['K3S_TOKEN'] ?? '',
    /^K10a3c0e9f1d2b4c6e8f0a1b3c5d7e9f1a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3d5::server:4f0b6a1d9e2c7b3a8f5e1d6c0b9a7e3f$/,
  );
  assert.deepEqual(parseEnvFile("K3S_NODE_NAME='a b'\nexport HTTP_PROXY='http://p:3128'\n# comment\n"), {
    K3S_NODE_NAME: 'a b',
    HTTP_PROXY: 'http://p:3128',
  });
});

test('GIVEN words with quotes and escapes WHEN split THEN they come back as the shell would', () => {
  assert.deepEqual(splitWords(`a 'b c' "d \\" e" f\\ g`), ['a', 'b c', 'd " e', 'f g']);
  assert.throws(() => splitWords("'open"), /unterminated single quote/);
});

test('GIVEN an agent config WHEN the install script is built THEN a real sh sees the role, args, env and version, and the token only on stdin', () => {
  const token = "K10secret::server:it's";
  const script = buildInstallScript({
    config: { role: 'agent', args: ['--node-label', 'x=$(reboot)'], env: { K3S_URL: 'https://10.0.20.20:6443', K3S_TOKEN: token } },
    version: 'v1.33.5+k3s1',
    installScriptUrl: 'https://get.k3s.io',
  });
  // Replace curl and the installer with probes, then run the script in a real sh.
  const probe = script
    .replace(/^curl .*$/m, 'true')
    .replace(/^mkdir .*$/m, 'true')
    .replace(/^sh \/var\/lib\/pve-k3s\/install\.sh (.*)$/m, 'printf "%s\\n" "$K3S_URL" "$K3S_TOKEN" "$INSTALL_K3S_VERSION" $1')
    .replace(/^rm .*$/m, '');
  const r = spawnSync('/bin/sh', ['-s'], {
    input: probe.replace('$1', script.match(/^sh \/var\/lib\/pve-k3s\/install\.sh (.*)$/m)![1]!),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').slice(0, 6), [
    'https://10.0.20.20:6443',
    token,
    'v1.33.5+k3s1',
    'agent',
    '--node-label',
    'x=$(reboot)',
  ]);
  // Saved where only root writes (a fixed name in /tmp could be planted by a container user).
  assert.match(script, /^mkdir -p \/var\/lib\/pve-k3s\ncurl -sfL https:\/\/get\.k3s\.io -o \/var\/lib\/pve-k3s\/install\.sh$/m);
  assert.match(script, /^set -e$/m);
});

test('GIVEN the install script saved ahead by this run WHEN the install script is built THEN it does not download it again', () => {
  const o = {
    config: { role: 'agent' as const, args: [], env: { K3S_URL: 'https://10.0.20.20:6443', K3S_TOKEN: 'K10x' } },
    version: 'v1.33.5+k3s1',
    installScriptUrl: 'https://get.k3s.io',
  };
  assert.doesNotMatch(buildInstallScript({ ...o, scriptSaved: true }), /curl|mkdir/);
  assert.match(buildInstallScript({ ...o, scriptSaved: true }), /^sh \/var\/lib\/pve-k3s\/install\.sh agent <\/dev\/null$/m);
  assert.match(buildInstallScript(o), /^curl -sfL/m);
});

test('GIVEN output that contains the token WHEN redacted THEN the token is gone', () => {
  const env = { K3S_TOKEN: 'K10abcdef::server:xyz', K3S_URL: 'https://x:6443' };
  assert.deepEqual(secretValues(env), ['K10abcdef::server:xyz']);
  assert.equal(redact('error with K10abcdef::server:xyz inside', secretValues(env)), 'error with *** inside');
});
