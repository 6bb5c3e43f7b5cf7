/**
 * Validated inventories kept between commands, so a command whose inventory has not changed
 * since the last one neither loads yaml and zod nor validates again: about 100 ms of every cold
 * start (docs/performance.md), spent before the first SSH request can be sent.
 *
 * An entry's name is a SHA-256 of everything parseInventory's result depends on: the file's
 * text, its resolved path, the home directory (`~` in paths), the version of the code that
 * parsed it (the name, size and time of the parser's own modules, so a
 * rebuilt parser never reads an entry of the old one) and Node's V8 (the entry is node:v8's
 * serialisation, which keeps `undefined` fields as they were). Only a valid inventory is
 * stored, so every error and its line numbers still come from a fresh parse.
 *
 * The cache is an optimisation and never a reason to fail: an unreadable, corrupt or foreign
 * entry is a miss, a failed write is ignored. It lives in `$XDG_CACHE_HOME/pve-k3s/inventory`
 * (else `~/.cache/pve-k3s/inventory`), a directory private to the user (0700, checked like the
 * ssh control directory: not used when it is a symlink, another user's, or open to others),
 * files 0600 written whole (a temp file, then rename). The newest MAX_ENTRIES are kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import type { Inventory } from './types.js';

export const MAX_ENTRIES = 32;

/** Bumped when an entry's layout changes. */
const FORMAT = 1;

/** What an entry's key is made of, beside the text. */
export interface CacheKeyParts {
  /** The inventory file as given (resolved against the working directory here). */
  file: string;
  text: string;
  home: string;
}

let codeFingerprint: string | null | undefined;

/**
 * The parser's own code: this folder and src/domain (parse.ts imports nothing from elsewhere;
 * test/inventory/cache.test.ts checks that), each module's name, size and modification time.
 * Laid out otherwise (one bundled file), the file this code is in; null when neither can be
 * read, and then there is no cache.
 */
function code(): string | null {
  if (codeFingerprint !== undefined) return codeFingerprint;
  const self = fileURLToPath(import.meta.url);
  const here = dirname(self);
  const h = createHash('sha256').update(`${process.versions.v8}\0`);
  try {
    for (const dir of [here, join(here, '..', 'domain')]) {
      for (const name of readdirSync(dir).sort()) {
        if (!/\.[cm]?[jt]s$/.test(name)) continue;
        const st = statSync(join(dir, name));
        h.update(`${name}\0${st.size}\0${st.mtimeMs}\0`);
      }
    }
    codeFingerprint = h.digest('hex');
  } catch {
    try {
      const st = statSync(self);
      codeFingerprint = h.update(`${self}\0${st.size}\0${st.mtimeMs}`).digest('hex');
    } catch {
      codeFingerprint = null;
    }
  }
  return codeFingerprint;
}

/** The entry's name for these parts; undefined when the code cannot be fingerprinted (no cache). */
export function cacheKey(p: CacheKeyParts): string | undefined {
  const fingerprint = code();
  if (fingerprint === null) return undefined;
  return createHash('sha256')
    .update(JSON.stringify([FORMAT, fingerprint, resolve(p.file), p.home]))
    .update('\0')
    .update(p.text)
    .digest('hex');
}

interface Entry {
  key: string;
  inventory: Inventory;
}

/** The directory is ours alone: a real directory, our uid, no access for group or others. */
async function privateDir(dir: string): Promise<boolean> {
  try {
    const st = await lstat(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** The cached inventory for these parts, or undefined (none, unreadable, or not this key's). */
export async function readCachedInventory(dir: string, parts: CacheKeyParts): Promise<Inventory | undefined> {
  const key = cacheKey(parts);
  if (key === undefined || !(await privateDir(dir))) return undefined;
  try {
    const entry = deserialize(await readFile(join(dir, `${key}.v8`))) as Partial<Entry> | null;
    if (entry?.key !== key || typeof entry.inventory !== 'object' || entry.inventory === null) return undefined;
    if (entry.inventory.file !== resolve(parts.file)) return undefined;
    return entry.inventory;
  } catch {
    return undefined;
  }
}

/** Stores a validated inventory; never throws. */
export async function storeCachedInventory(dir: string, parts: CacheKeyParts, inventory: Inventory): Promise<void> {
  try {
    const key = cacheKey(parts);
    if (key === undefined) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await privateDir(dir))) return;
    const tmp = join(dir, `.${key}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, serialize({ key, inventory } satisfies Entry), { mode: 0o600 });
    await rename(tmp, join(dir, `${key}.v8`));
    await prune(dir);
  } catch {
    // An optimisation: the next command parses again.
  }
}

/** Removes the oldest entries beyond MAX_ENTRIES (another process may remove them first). */
async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.v8'));
  if (names.length <= MAX_ENTRIES) return;
  const aged = await Promise.all(
    names.map(async (n) => ({
      n,
      t: await stat(join(dir, n)).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    })),
  );
  aged.sort((a, b) => b.t - a.t);
  await Promise.all(aged.slice(MAX_ENTRIES).map((a) => unlink(join(dir, a.n)).catch(() => undefined)));
}
