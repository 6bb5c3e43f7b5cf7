/**
 * Recognises the ssh client's own failures in its stderr. ssh exits 255 both when it fails
 * and when the remote command exits 255 (pct does, for its own errors), so the exit status
 * alone cannot tell them apart.
 */
export type SshFailureKind = 'host-key' | 'auth' | 'network' | 'config';

export interface SshFailure {
  kind: SshFailureKind;
  /** Lower-case phrase used in the message, e.g. `connection refused`. */
  reason: string;
}

/** First match wins: host key and auth problems before the generic network ones. */
const PATTERNS: ReadonlyArray<readonly [RegExp, SshFailureKind, string]> = [
  [
    /Host key verification failed\.|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known for/,
    'host-key',
    'host key verification failed',
  ],
  [/Permission denied \((?:publickey|password|keyboard-interactive|gssapi|hostbased)/, 'auth', 'authentication failed'],
  [/Too many authentication failures/, 'auth', 'authentication failed'],
  [/Could not resolve hostname/, 'network', 'could not resolve the host name'],
  [/ssh: connect to host .*Connection refused/, 'network', 'connection refused'],
  [
    /ssh: connect to host .*(?:Connection timed out|Operation timed out)|Connection timed out during banner exchange/,
    'network',
    'connection timed out',
  ],
  [/ssh: connect to host .*(?:No route to host|Network is unreachable)/, 'network', 'no route to host'],
  [/ssh: connect to host /, 'network', 'connection failed'],
  [/Connection to \S+ closed by remote host/, 'network', 'connection closed by the remote host'],
  [/kex_exchange_identification|Connection closed by |Connection reset by /, 'network', 'connection closed during the ssh handshake'],
  [/mux_client|Control socket connect|ControlSocket .* already exists/, 'network', 'the ssh control connection failed'],
  [
    /Bad owner or permissions on|Bad configuration option|Can't open user config file|no argument after keyword|too long for Unix domain socket/,
    'config',
    'ssh configuration error',
  ],
];

export function classifySshStderr(stderr: string): SshFailure | undefined {
  for (const [re, kind, reason] of PATTERNS) if (re.test(stderr)) return { kind, reason };
  return undefined;
}

/** What the user should do for each kind of failure. */
export function sshFailureHint(kind: SshFailureKind, destination: string): string {
  switch (kind) {
    case 'host-key':
      return `connect once with \`ssh ${destination}\` and verify the key`;
    case 'auth':
      return `check that your key is loaded in ssh-agent or set IdentityFile for ${destination} in ~/.ssh/config`;
    case 'network':
      return `check the host is up and reachable: \`ssh ${destination} true\``;
    case 'config':
      return 'fix the ssh configuration problem shown with --verbose';
  }
}
