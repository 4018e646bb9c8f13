import { GRAPH_FORMAT, GRAPH_VERSION } from './document.js';
import { GraphLoadError } from './errors.js';

type Raw = Record<string, unknown>;
type Migration = (doc: Raw) => Raw;

/**
 * Forward migrations, keyed by the version they upgrade *from*. Version 1 documents (early
 * prototypes) stored edges in React Flow's shape and called the seed `globalSeed`.
 */
const MIGRATIONS: Record<number, Migration> = {
  1: (doc) => {
    const edges = Array.isArray(doc.edges) ? (doc.edges as Raw[]) : [];
    const { globalSeed, ...rest } = doc;
    return {
      ...rest,
      version: 2,
      seed: typeof globalSeed === 'number' ? globalSeed : 0,
      edges: edges.map((e) => ({
        id: e.id,
        from: { node: e.source, port: e.sourceHandle ?? 'out' },
        to: { node: e.target, port: e.targetHandle ?? 'in' },
      })),
    };
  },
  // Version 3 added subgraph nodes; nothing in a version 2 document changes meaning.
  2: (doc) => ({ ...doc, version: 3 }),
};

/** Brings a parsed document up to the current version, or explains why it cannot. */
export function migrateDocument(raw: unknown, file?: string): Raw {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GraphLoadError('not a Forge graph document: expected a JSON object', [{ severity: 'error', code: 'not-a-graph', file, message: 'expected a JSON object at the top level' }]);
  }
  let doc = raw as Raw;
  if (doc.format !== GRAPH_FORMAT) {
    throw new GraphLoadError(`not a Forge graph document: "format" is ${JSON.stringify(doc.format)}`, [
      { severity: 'error', code: 'not-a-graph', file, field: 'format', message: `expected "format": "${GRAPH_FORMAT}"` },
    ]);
  }
  const declared = doc.version;
  if (typeof declared !== 'number' || !Number.isInteger(declared) || declared < 1) {
    throw new GraphLoadError('graph document has no valid "version"', [{ severity: 'error', code: 'bad-version', file, field: 'version', message: 'expected a positive integer version' }]);
  }
  let version: number = declared;
  if (version > GRAPH_VERSION) {
    const message = `this graph was written by a newer Forge (format version ${version}); this engine reads versions up to ${GRAPH_VERSION}. Upgrade Forge to open it.`;
    throw new GraphLoadError(message, [{ severity: 'error', code: 'future-version', file, field: 'version', message }]);
  }
  while (version < GRAPH_VERSION) {
    const step = MIGRATIONS[version];
    if (!step) throw new Error(`no migration from graph format version ${version}`);
    doc = step(doc);
    version = doc.version as number;
  }
  // The document says it was migrated (the app and `forge validate` warn: save to keep it).
  if (declared < GRAPH_VERSION) doc = { ...doc, migratedFrom: declared };
  return doc;
}
