/**
 * The lab's hooks into the k3s model (k3s-model.ts): what else happens in a container when a
 * server starts (a restored datastore is loaded, the token files and k3s.yaml appear) or stops
 * (SQLite's file becomes a consistent copy). Programs pass these to the model's transitions.
 */
import { loadDatastore, saveDatastore } from './datastore.js';
import type { ServiceHooks } from './k3s-model.js';
import { ensureServerFiles } from './server-files.js';

export const LAB_HOOKS: ServiceHooks = {
  serverStarted(s, loc) {
    loadDatastore(s, loc);
    ensureServerFiles(s, loc.ct);
  },
  serverStopping(s, ct) {
    saveDatastore(s, ct);
  },
};
