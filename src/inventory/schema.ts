/**
 * The zod schema of the inventory file: types, formats and ranges of each field, and which
 * keys exist (strict objects). Rules that relate fields (a node's host is declared, one server
 * at least...) are in ./rules.ts, which runs even when this schema fails, so that one run
 * reports every problem. Messages come from ./fields.ts, not from zod.
 */
import { K3S_VERSION_RE } from '../domain/version.js';
import { isTimeZone, parseTimeOfDay, parseWeekday } from '../domain/window.js';
import { zodLib } from './deps.js';
import { parseDuration } from './duration.js';

export const CLUSTER_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const CHANNEL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** An SSH destination: no whitespace, and no leading `-` (it would be read as an option). */
export const SSH_DESTINATION_RE = /^[^\s-]\S*$/;

/** A Proxmox volume id such as `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. */
export const VOLUME_RE = /^[A-Za-z][A-Za-z0-9_.-]*:[^\s]+$/;
export const STORAGE_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** A `net0` value: comma-separated key=value pairs, no spaces. */
export const NET_RE = /^[a-z0-9]+=[^\s,]+(,[a-z0-9]+=[^\s,]+)*$/;
/** A Proxmox tag (no `;`, `,` or spaces). */
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_+.-]*$/;

/** A webhook: an http(s) URL, optionally with its format before a `+` (`ntfy+https://ntfy.sh/k3s`). */
export const NOTIFY_RE = /^(?:(generic|ntfy|slack|discord)\+)?(https?:\/\/\S+)$/;

export function isNotifyUrl(text: string): boolean {
  const m = NOTIFY_RE.exec(text);
  return m?.[2] !== undefined && isHttpUrl(m[2]);
}

/** True when the text compiles as a JavaScript regular expression. */
export function isRegExp(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

/** True for an absolute http: or https: URL. */
export function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.host !== '';
}

function build() {
  const { z } = zodLib();
  const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
    const seconds = parseDuration(v);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: 'invalid duration', input: v });
      return z.NEVER;
    }
    return seconds;
  });
  const yes = z.literal(true);
  const path = z.string().min(1);
  const host = z.strictObject({
    ssh: z.string().regex(SSH_DESTINATION_RE).optional(),
    sshConfig: path.optional(),
    sshPersist: z.union([z.literal(false), duration]).optional(),
    local: yes.optional(),
    lab: yes.optional(),
  });
  const container = z.strictObject({
    template: z.string().regex(VOLUME_RE).nullish(),
    storage: z.string().regex(STORAGE_RE).nullish(),
    diskSize: z.union([z.number().int().min(1).max(65_536), z.string().regex(/^\d{1,5}G?$/)]).nullish(),
    cores: z.number().int().min(1).max(8192).nullish(),
    memory: z.number().int().min(16).max(4_194_304).nullish(),
    network: z.string().regex(NET_RE).nullish(),
    tags: z.union([z.string().regex(TAG_RE), z.array(z.string().regex(TAG_RE))]).nullish(),
  });
  const node = z.strictObject({
    vmid: z.number().int().min(100).max(999_999_999),
    host: z.string().min(1),
    role: z.enum(['server', 'agent', 'worker']),
    container: container.nullish(),
    upgrade: z.boolean().nullish(),
  });
  const day = z.string().refine((d) => parseWeekday(d) !== undefined);
  const timeOfDay = z.string().refine((t) => parseTimeOfDay(t) !== undefined);
  const window = z.strictObject({
    days: z
      .union([
        z.string().refine((t) =>
          t
            .split(/[\s,]+/)
            .filter(Boolean)
            .every((d) => parseWeekday(d) !== undefined),
        ),
        z.array(day).min(1),
      ])
      .nullish(),
    start: timeOfDay.nullish(),
    end: timeOfDay.nullish(),
    timeZone: z.string().refine(isTimeZone).nullish(),
  });
  const arg = z.string().min(1);
  const url = z.string().refine(isHttpUrl);
  return z.strictObject({
    cluster: z.string().regex(CLUSTER_RE),
    hosts: z.record(z.string(), host),
    nodes: z.record(z.string(), node),
    controller: z.string().nullish(),
    k3s: z
      .strictObject({
        channel: z.string().regex(CHANNEL_RE).nullish(),
        version: z.string().regex(K3S_VERSION_RE).nullish(),
        channelUrl: z.union([z.literal('lab'), url]).nullish(),
        installScriptUrl: url.nullish(),
      })
      .nullish(),
    drain: z
      .strictObject({
        ignoreDaemonsets: z.boolean().nullish(),
        deleteEmptydirData: z.boolean().nullish(),
        disableEviction: z.boolean().nullish(),
        force: z.boolean().nullish(),
        timeout: duration.nullish(),
        gracePeriod: duration.nullish(),
        skipWaitForDeleteTimeout: duration.nullish(),
        onTimeout: z.enum(['fail', 'disable-eviction']).nullish(),
      })
      .nullish(),
    upgrade: z
      .strictObject({
        order: z.enum(['auto', 'workers-first', 'servers-first']).nullish(),
        allowSkew: z.boolean().nullish(),
        readyTimeout: duration.nullish(),
        drainServers: z.enum(['auto', 'always', 'never']).nullish(),
        snapshot: z.boolean().nullish(),
        snapshotRetention: z.number().int().min(1).max(100).nullish(),
        parallel: z.number().int().min(1).max(100).nullish(),
        canary: z.string().min(1).nullish(),
        canarySoak: duration.nullish(),
        soak: duration.nullish(),
        window: window.nullish(),
        notify: z.union([z.string().refine(isNotifyUrl), z.array(z.string().refine(isNotifyUrl))]).nullish(),
        prometheusUrl: url.nullish(),
        alertFilterRegexp: z.string().min(1).refine(isRegExp).nullish(),
        alertFiringOnly: z.boolean().nullish(),
        alertFilterMatchOnly: z.boolean().nullish(),
        blockingPodSelector: z.union([z.string().min(1), z.array(z.string().min(1))]).nullish(),
        gateTimeout: duration.nullish(),
      })
      .nullish(),
    lab: z.strictObject({ dir: path }).nullish(),
    container: container.nullish(),
    install: z
      .strictObject({
        serverArgs: z.array(arg).nullish(),
        agentArgs: z.array(arg).nullish(),
        config: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
      })
      .nullish(),
  });
}

export type InventorySchema = ReturnType<typeof build>;
/** The file's content once the schema accepts it (before defaults and normalisation). */
export type InventoryFile = import('zod').output<InventorySchema>;

let schema: InventorySchema | undefined;

/** Built on first use: zod loads only when an inventory is parsed. */
export function inventorySchema(): InventorySchema {
  schema ??= build();
  return schema;
}
