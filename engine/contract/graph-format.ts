/** Part of the engine ↔ renderer contract: what a Forge graph document is called and which version is written. */

/** The format name every Forge graph document carries; anything else is not ours. */
export const GRAPH_FORMAT = 'forge-graph';
/**
 * The document version this engine (and the canvas) writes. Older versions are migrated on load
 * (engine/graph/migrate.ts). Version 3 added subgraph nodes; a version 2 document is a version 3
 * document without them.
 */
export const GRAPH_VERSION = 3;

/** The reserved node type of a subgraph node (its definition is `node.subgraph`, not a registry entry). */
export const SUBGRAPH_TYPE = 'subgraph';

/**
 * Joins a subgraph's id and an inner node's id into the id the engine plans, caches and records:
 * `prep/filter`. `/` cannot appear in a node id, so a flattened id never collides with a user's.
 */
export const SUBGRAPH_SEPARATOR = '/';

export function innerNodeId(subgraphId: string, innerId: string): string {
  return `${subgraphId}${SUBGRAPH_SEPARATOR}${innerId}`;
}

/** The outermost subgraph a flattened id belongs to, or null for a top-level node. */
export function outerSubgraphOf(flatId: string): string | null {
  const i = flatId.indexOf(SUBGRAPH_SEPARATOR);
  return i < 0 ? null : flatId.slice(0, i);
}
