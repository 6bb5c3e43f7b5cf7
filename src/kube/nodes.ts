/** Parsing `kubectl get nodes -o json` into the facts pve-k3s needs. */
import { ResponseError } from '../domain/errors.js';
import { CORDON_ANNOTATION, type KubeNodeFacts } from '../domain/facts.js';
import { tryParseVersion } from '../domain/version.js';
import type { Role } from '../inventory/types.js';
import { firstLine, isRecord } from '../domain/text.js';

/** kubectl answered something that is not the JSON it documents. */
export class KubeParseError extends ResponseError {}

/**
 * kubectl's `-o json` answer: its whole stdout (warnings and errors go to its stderr, which a
 * batch or a session keeps apart).
 */
export function parseJsonOutput(stdout: string): unknown {
  if (stdout.trim() === '') throw new KubeParseError('kubectl printed no JSON (empty output)');
  try {
    return JSON.parse(stdout);
  } catch (err) {
    throw new KubeParseError(
      `kubectl output is not valid JSON (${(err as Error).message}): ${firstLine(stdout).slice(0, 200) || '(empty)'}`,
    );
  }
}

export function parseNode(item: unknown): [string, KubeNodeFacts] | undefined {
  if (!isRecord(item)) return undefined;
  const metadata = isRecord(item['metadata']) ? item['metadata'] : {};
  const spec = isRecord(item['spec']) ? item['spec'] : {};
  const status = isRecord(item['status']) ? item['status'] : {};
  const name = metadata['name'];
  if (typeof name !== 'string') return undefined;
  const annotations = isRecord(metadata['annotations']) ? metadata['annotations'] : {};
  const conditions = Array.isArray(status['conditions']) ? status['conditions'] : [];
  const ready = conditions.some((c) => isRecord(c) && c['type'] === 'Ready' && c['status'] === 'True');
  const nodeInfo = isRecord(status['nodeInfo']) ? status['nodeInfo'] : {};
  const raw = typeof nodeInfo['kubeletVersion'] === 'string' ? nodeInfo['kubeletVersion'] : '';
  const cordon = annotations[CORDON_ANNOTATION];
  return [
    name,
    {
      ready,
      schedulable: spec['unschedulable'] !== true,
      kubeletVersion: tryParseVersion(raw),
      kubeletVersionRaw: raw,
      cordonedByUs: typeof cordon === 'string' ? cordon : undefined,
      k3sRole: roleFromNodeArgs(annotations['k3s.io/node-args']),
    },
  ];
}

/** `k3s.io/node-args` is a JSON array whose first element is `server` or `agent`. */
function roleFromNodeArgs(v: unknown): Role | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const args: unknown = JSON.parse(v);
    const first = Array.isArray(args) ? args[0] : undefined;
    return first === 'server' || first === 'agent' ? first : undefined;
  } catch {
    return undefined;
  }
}

export function parseNodeList(text: string): Map<string, KubeNodeFacts> {
  const doc = parseJsonOutput(text);
  const items = isRecord(doc) && Array.isArray(doc['items']) ? doc['items'] : undefined;
  if (!items) throw new KubeParseError('kubectl get nodes -o json: no "items" list');
  const out = new Map<string, KubeNodeFacts>();
  for (const item of items) {
    const parsed = parseNode(item);
    if (parsed) out.set(parsed[0], parsed[1]);
  }
  return out;
}
