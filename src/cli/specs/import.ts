/** `pve-k3s import`: the group of importers. */
import { Command, type Spec } from '../program.js';

const importGroup: Spec = () =>
  new Command('import')
    .summary("convert another tool's inventory into a pve-k3s inventory")
    .description("Convert another tool's inventory into a pve-k3s inventory.");
export default importGroup;
