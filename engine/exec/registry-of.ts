import type { NodeRegistry } from '../registry.js';

const registries = new Map<string, Promise<NodeRegistry>>();

/** The registry a unit names by module (`createRegistry()`), built once per thread. */
export function registryOf(moduleUrl: string): Promise<NodeRegistry> {
  let r = registries.get(moduleUrl);
  if (!r) {
    r = import(moduleUrl).then((m: { createRegistry: () => NodeRegistry }) => m.createRegistry());
    registries.set(moduleUrl, r);
  }
  return r;
}
