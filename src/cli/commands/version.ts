/** `pve-k3s version` and `pve-k3s --version`: this tool's version and the Node.js that runs it. */
import { PACKAGE_VERSION } from '../../version.js';
import { out, printDocument, type GlobalOptions } from '../context.js';

export const VERSION_API_VERSION = 'pve-k3s.io/v1';

export function versionDocument() {
  return {
    apiVersion: VERSION_API_VERSION,
    kind: 'Version',
    version: PACKAGE_VERSION,
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}

export async function version(g: GlobalOptions): Promise<number> {
  const doc = versionDocument();
  if (g.output === 'table') out(`pve-k3s ${doc.version} (node ${doc.node}, ${doc.platform})\n`);
  else await printDocument(g, doc);
  return 0;
}
