/** What a k3s node is, and the order policies of an upgrade. */
export type Role = 'server' | 'agent';
export type UpgradeOrder = 'auto' | 'workers-first' | 'servers-first';
