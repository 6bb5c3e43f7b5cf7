/**
 * Shell providers: transports that are neither OpenSSH nor the local machine, registered by name
 * (the embedded lab registers `lab`). The core speaks only of a provider's name: an inventory host
 * `{ kind: 'provider', provider: 'lab' }`, a channel source `{ provider: 'lab' }`. A provider is
 * looked up when a cluster is connected; its module registers it from its own entry point, or a
 * caller registers a loader that imports it on first use, so nothing is loaded before then.
 */
import type { Clock } from '../domain/clock.js';
import type { Shell } from './shell.js';

/** The provider's own section of the inventory (the file's `lab: { dir }` for the lab), paths resolved. */
export type ProviderSettings = Readonly<Record<string, unknown>>;

export interface ProviderContext {
  /** The provider's section of the inventory; undefined when the inventory has none. */
  settings: ProviderSettings | undefined;
  /** The inventory file, for messages; undefined outside an inventory (discover --host). */
  file: string | undefined;
}

/** An opened provider: shells on its hosts, and what else it serves. Close it when done. */
export interface ProviderSession {
  /** A shell on one of its hosts (throws for a host it does not have). */
  shell(host: string): Shell;
  /** The host names it has, when it can tell. */
  hosts?(): readonly string[];
  /** Serves a k3s channels collection (the channel source of `channelUrl: { provider }`): its URL. */
  startChannelServer?(): Promise<{ url: string; close(): Promise<void> }>;
  /** The time of its hosts, when they are simulated. */
  clock?: Clock;
  /**
   * What a new inventory needs to reach these hosts, as the file writes it: the provider's
   * section and the k3s sources (`channelUrl`, `installScriptUrl`).
   */
  inventorySettings?(): { settings: ProviderSettings; k3s?: Readonly<Record<string, string>> };
  close(): Promise<void>;
}

export interface ShellProvider {
  readonly name: string;
  open(ctx: ProviderContext): Promise<ProviderSession>;
}

type Entry = ShellProvider | (() => Promise<ShellProvider>);
const registry = new Map<string, Entry>();

/** Registers a provider, or a loader that imports it on first use; the last registration of a name wins. */
export function registerShellProvider(provider: ShellProvider): void;
export function registerShellProvider(name: string, load: () => Promise<ShellProvider>): void;
export function registerShellProvider(a: ShellProvider | string, load?: () => Promise<ShellProvider>): void {
  if (typeof a === 'string') registry.set(a, load!);
  else registry.set(a.name, a);
}

/** Whether a provider of this name is registered (loaded or not). */
export function hasShellProvider(name: string): boolean {
  return registry.has(name);
}

/** The provider registered under this name (loading it if needed), or undefined. */
export async function shellProvider(name: string): Promise<ShellProvider | undefined> {
  const e = registry.get(name);
  if (e === undefined || typeof e !== 'function') return e;
  const p = await e();
  registry.set(name, p);
  return p;
}
