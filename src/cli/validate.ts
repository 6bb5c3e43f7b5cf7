/**
 * Options that set what an inventory field sets are checked as that field is, with its words:
 * `--channel 'stable;id'` gets the message `k3s.channel: 'stable;id'` would get in the
 * inventory, and exit 2. Loaded only when a command runs.
 */
import { UsageError } from '../domain/errors.js';
import { K3S_VERSION_RE } from '../domain/version.js';
import { FIELDS } from '../inventory/fields.js';
import { CHANNEL_RE } from '../inventory/schema.js';

/** Option (as commander names its value) -> the inventory field it stands for, and its rule. */
const OPTION_FIELDS: Record<string, { flag: string; field: string; valid: (v: string) => boolean }> = {
  channel: { flag: '--channel', field: 'k3s.channel', valid: (v) => CHANNEL_RE.test(v) },
  k3sVersion: { flag: '--k3s-version', field: 'k3s.version', valid: (v) => K3S_VERSION_RE.test(v) },
  version: { flag: '--version', field: 'k3s.version', valid: (v) => K3S_VERSION_RE.test(v) },
};

/** Throws a UsageError (exit 2) for the first option value its inventory field would refuse. */
export function checkOptions(opts: Record<string, unknown>): void {
  for (const [key, rule] of Object.entries(OPTION_FIELDS)) {
    const v = opts[key];
    if (typeof v !== 'string' || rule.valid(v)) continue;
    const info = FIELDS[rule.field];
    throw new UsageError(`${rule.flag}: must be ${info?.expected ?? 'valid'}, got ${JSON.stringify(v)}`, {
      ...(info?.hint !== undefined ? { hint: `${info.hint} (the inventory's ${rule.field} takes the same values)` } : {}),
    });
  }
}
