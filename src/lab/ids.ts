/** Generated names and ids in Kubernetes' own shapes (pod suffixes, uids, tokens). */
import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A Kubernetes-style random suffix (`web-7d9c8b6f5-x2k4p`). */
export function suffix(len = 5): string {
  const bytes = randomBytes(len);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export function uid(): string {
  return randomUUID();
}

/** A k3s secure token: `K10<ca hash>::server:<password>`. */
export function clusterToken(): string {
  return `K10${randomBytes(32).toString('hex')}::server:${randomBytes(16).toString('hex')}`;
}

export function hexId(len: number): string {
  return randomBytes(Math.ceil(len / 2))
    .toString('hex')
    .slice(0, len);
}
