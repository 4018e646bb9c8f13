// The composition root: the one place that puts the engine and the node types together. Entry
// points (the CLI bin, the Electron engine host, tests, benches) build the registry from here;
// `engine/` never imports `nodes/`. Worker threads rebuild it through `createRegistry` below,
// named in every work unit as the registry module.
import { NodeRegistry } from '../engine/registry.js';
import { NODE_TYPES } from '../nodes/index.js';

let shared: NodeRegistry | undefined;

/** The built-in node types, built once per process (or worker thread). */
export function defaultRegistry(): NodeRegistry {
  shared ??= new NodeRegistry(NODE_TYPES, import.meta.url);
  return shared;
}

/** Worker threads and out-of-process executors call this to rebuild the same registry. */
export const createRegistry = defaultRegistry;
