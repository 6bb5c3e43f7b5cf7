/**
 * Notifications: a JSON POST to each webhook at run start, when each node is done or failed,
 * and when the run completes, stops or fails, with the cluster, the node, the versions, the
 * durations and, for a failure, the fix. Formats: a generic webhook (the event as JSON), ntfy
 * (JSON publishing), Slack and Discord incoming webhooks; taken from the URL's host, or given
 * as `ntfy+https://...`. A webhook that fails is reported as a warning and never stops the
 * upgrade. No secret goes in a payload (nor the webhook URL, which often is one): only names,
 * versions, durations and pve-k3s's own messages. Shared by every engine.
 */
import type { NotifyFormat } from '../../domain/policy.js';
import { humanDuration } from '../../domain/duration.js';

export interface NotifyTarget {
  format: NotifyFormat;
  url: string;
}

const PREFIX_RE = /^(?:(generic|ntfy|slack|discord)\+)?(https?:\/\/\S+)$/;

/** `slack+https://...` or a URL whose host says the format (ntfy.sh, hooks.slack.com, discord.com); undefined when not a URL. */
export function parseNotifyTarget(text: string): NotifyTarget | undefined {
  const m = PREFIX_RE.exec(text.trim());
  if (!m || !URL.canParse(m[2]!)) return undefined;
  const url = m[2]!;
  if (m[1]) return { format: m[1] as NotifyFormat, url };
  const u = new URL(url);
  const host = u.hostname.toLowerCase();
  if (host === 'ntfy.sh' || host.endsWith('.ntfy.sh')) return { format: 'ntfy', url };
  if (host === 'hooks.slack.com') return { format: 'slack', url };
  if ((host === 'discord.com' || host === 'discordapp.com' || host.endsWith('.discord.com')) && u.pathname.startsWith('/api/webhooks/'))
    return { format: 'discord', url };
  return { format: 'generic', url };
}

/** `slack hooks.slack.com`: what messages and the plan say of a target (never its path: it holds the token). */
export function describeTarget(t: NotifyTarget): string {
  return `${t.format} ${new URL(t.url).host}`;
}

export type NotifyEventKind = 'run-start' | 'node-done' | 'node-failed' | 'run-complete' | 'run-stopped' | 'run-failed';

export interface NotifyEvent {
  event: NotifyEventKind;
  cluster: string;
  run: string;
  /** The run's target version. */
  target: string;
  /** When it happened (ISO 8601, the run's clock). */
  at: string;
  node?: string;
  /** The node's version before and after (node events). */
  from?: string;
  to?: string;
  /** The node's time (node events) or the run's (run end), ms. */
  durationMs?: number;
  /** Nodes done so far and in the plan. */
  nodesDone?: number;
  nodesTotal?: number;
  /** What went wrong (failed, stopped). */
  message?: string;
  /** What to do about it. */
  fix?: string;
}

/** One line for people. */
export function summary(e: NotifyEvent): string {
  const d = e.durationMs !== undefined ? ` in ${humanDuration(e.durationMs)}` : '';
  const progress = e.nodesTotal !== undefined ? ` (${e.nodesDone ?? 0}/${e.nodesTotal} nodes)` : '';
  switch (e.event) {
    case 'run-start':
      return `pve-k3s: upgrade of ${e.cluster} to ${e.target} started (${e.nodesTotal ?? 0} nodes)`;
    case 'node-done':
      return `pve-k3s: ${e.cluster}: ${e.node} upgraded ${e.from ?? '?'} -> ${e.to ?? e.target}${d}${progress}`;
    case 'node-failed':
      return `pve-k3s: ${e.cluster}: ${e.node} FAILED: ${e.message ?? 'unknown error'}${e.fix ? `. Fix: ${e.fix}` : ''}`;
    case 'run-complete':
      return `pve-k3s: upgrade of ${e.cluster} to ${e.target} complete${d}${progress}`;
    case 'run-stopped':
      return `pve-k3s: upgrade of ${e.cluster} to ${e.target} stopped${progress}: ${e.message ?? ''}${e.fix ? `. ${e.fix}` : ''}`;
    case 'run-failed':
      return `pve-k3s: upgrade of ${e.cluster} to ${e.target} FAILED${progress}: ${e.message ?? ''}${e.fix ? `. Fix: ${e.fix}` : ''}`;
  }
}

const BAD: ReadonlySet<NotifyEventKind> = new Set(['node-failed', 'run-failed']);

/** The URL to POST to and the JSON body, per format. */
export function request(t: NotifyTarget, e: NotifyEvent): { url: string; body: unknown } {
  const text = summary(e);
  switch (t.format) {
    case 'generic':
      return { url: t.url, body: { ...e, text } };
    case 'ntfy': {
      // ntfy's JSON publishing: POST to the server's root with the topic in the body.
      const u = new URL(t.url);
      const parts = u.pathname.split('/').filter(Boolean);
      const topic = parts.pop() ?? '';
      u.pathname = `/${parts.join('/')}`;
      return {
        url: u.toString(),
        body: {
          topic,
          title: `pve-k3s ${e.cluster}: ${e.event}`,
          message: text,
          tags: [BAD.has(e.event) ? 'rotating_light' : e.event === 'run-stopped' ? 'warning' : 'white_check_mark'],
          priority: BAD.has(e.event) ? 5 : 3,
        },
      };
    }
    case 'slack':
      return { url: t.url, body: { text } };
    case 'discord':
      return { url: t.url, body: { content: text.slice(0, 2000), username: 'pve-k3s' } };
  }
}

export interface Notifier {
  /** Sends to every target at once; resolves when each has answered or timed out. Never rejects. */
  send(e: NotifyEvent): Promise<void>;
}

/** A notifier for `targets`; `warn` hears of each failed delivery (format and host, never the URL). */
export function notifier(targets: readonly NotifyTarget[], warn: (message: string) => void, o: { timeoutMs?: number } = {}): Notifier {
  return {
    async send(e) {
      await Promise.all(
        targets.map(async (t) => {
          const { url, body } = request(t, e);
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
              signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
            });
            await res.arrayBuffer().catch(() => undefined);
            if (!res.ok) warn(`notification to ${describeTarget(t)} failed: HTTP ${res.status} (the upgrade goes on)`);
          } catch (err) {
            const cause = (err as { cause?: { code?: string } }).cause;
            const why = (err as Error).name === 'TimeoutError' ? 'no answer within 5s' : (cause?.code ?? (err as Error).message);
            warn(`notification to ${describeTarget(t)} failed: ${why} (the upgrade goes on)`);
          }
        }),
      );
    },
  };
}
