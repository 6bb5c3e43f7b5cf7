/**
 * yaml and zod, loaded on first use. The CLI imports the inventory module for every command,
 * and `pve-k3s --help` must not pay for parsing libraries, so nothing here loads at import
 * time. Both packages ship CommonJS builds, which lets the loading stay synchronous
 * (parseInventory is sync).
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type * as Zod from 'zod';

export type YamlLib = typeof Yaml;
export type ZodLib = typeof Zod;

let yaml: YamlLib | undefined;
let zod: ZodLib | undefined;

export function yamlLib(): YamlLib {
  yaml ??= createRequire(import.meta.url)('yaml') as YamlLib;
  return yaml;
}

export function zodLib(): ZodLib {
  zod ??= createRequire(import.meta.url)('zod') as ZodLib;
  return zod;
}
