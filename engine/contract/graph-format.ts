/** Part of the engine ↔ renderer contract: what a Forge graph document is called and which version is written. */

/** The format name every Forge graph document carries; anything else is not ours. */
export const GRAPH_FORMAT = 'forge-graph';
/** The document version this engine (and the canvas) writes. Older versions are migrated on load (engine/graph/migrate.ts). */
export const GRAPH_VERSION = 2;
