import { topologyOf, type Topology } from '../contract/topology.js';
import type { GraphDocument } from './document.js';

export { ancestors, descendants, type Topology } from '../contract/topology.js';

/** The document's topology: see engine/contract/topology.ts (shared with the canvas). */
export function topology(doc: Pick<GraphDocument, 'nodes' | 'edges'>): Topology {
  return topologyOf(
    doc.nodes.map((n) => n.id),
    doc.edges.map((e) => ({ from: e.from.node, to: e.to.node })),
  );
}
