import { isAbsolute, resolve } from 'node:path';
import { expandGraph } from '../exec/expand.js';
import { GraphLoadError } from '../graph/errors.js';
import type { ValidGraph } from '../graph/validate.js';
import type { NodeRegistry } from '../registry.js';
import type { NodeType } from '../sdk/types.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import type { Workspace } from '../workspace.js';
import { accessRoots, assertReadableKind, globBase, isAllowed, realPath, UnsafeFileError, type AccessRoots } from './access.js';

/** Why a param needs the user's consent (or is only part of the fingerprint). */
export type TrustReason = 'code' | 'confined-code' | 'path';

export interface TrustItem {
  nodeId: string;
  /** `params.<name>`, or `files` for a file a node declared it reads. */
  field: string;
  reason: TrustReason;
  /** The param's value (code, command, env) or the real path outside the allowed folders. */
  value: string;
}

export interface TrustAssessment {
  /** Covers every code param and every path outside the allowed folders: changing any re-asks. */
  fingerprint: string;
  items: TrustItem[];
  /** The items that block an untrusted run (code that runs unconfined, paths outside the roots). */
  needsTrust: TrustItem[];
  roots: AccessRoots;
}

export class UntrustedGraphError extends Error {
  constructor(
    readonly assessment: TrustAssessment,
    hint: string,
  ) {
    const what = assessment.needsTrust.map(describeItem);
    super(`this graph needs your trust before it runs (${hint}):\n${what.map((w) => `  - ${w}`).join('\n')}`);
    this.name = 'UntrustedGraphError';
  }
}

export function describeItem(i: TrustItem): string {
  if (i.reason === 'path') return `node ${i.nodeId} ${i.field}: ${i.value} is outside the graph folder, the workspace and the granted folders`;
  const preview = i.value.length > 120 ? `${i.value.slice(0, 117)}...` : i.value;
  return `node ${i.nodeId} ${i.field} runs code on this machine: ${preview.replace(/\s+/g, ' ')}`;
}

const PATH_WIDGETS = new Set(['file', 'folder', 'glob', 'save-file', 'save-folder']);
/** Values that name something built in rather than a file. */
const NOT_A_PATH = /^builtin:/;

/** Params holding paths: declared with `pathParams`, or marked with a file/folder widget. */
export function pathParamsOf(def: NodeType, registry: NodeRegistry): string[] {
  if (def.pathParams) return def.pathParams;
  const schema = registry.info(def.type).paramsSchema as { properties?: Record<string, { widget?: unknown }> };
  return Object.entries(schema.properties ?? {})
    .filter(([, p]) => typeof p.widget === 'string' && PATH_WIDGETS.has(p.widget))
    .map(([name]) => name);
}

/** The declared reach of one node instance: each path param's folder-or-file (globs cut at the wildcard) and each input file. */
export function declaredPaths(def: NodeType, registry: NodeRegistry, params: Record<string, unknown>, baseDir: string, inputFiles: readonly string[]): string[] {
  const out = new Set<string>();
  for (const name of pathParamsOf(def, registry)) {
    const v = params[name];
    if (typeof v !== 'string' || v === '' || NOT_A_PATH.test(v)) continue;
    const reach = globBase(v);
    out.add(realPath(isAbsolute(reach) ? reach : resolve(baseDir, reach)));
  }
  for (const f of inputFiles) out.add(realPath(isAbsolute(f) ? f : resolve(baseDir, f)));
  return [...out].sort();
}

function stringValue(v: unknown): string {
  return typeof v === 'string' ? v : canonicalJson(v);
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (typeof v === 'object' && Object.keys(v).length === 0);
}

/**
 * What in this graph needs consent: code params (SQL runs confined by DuckDB, so it only joins the
 * fingerprint; anything else runs unconfined) and every path — params and the files nodes declare
 * they read — whose real location lies outside the graph folder, the workspace and granted folders.
 */
export async function assessTrust(graph: ValidGraph, registry: NodeRegistry, baseDir: string, workspace: string, granted: readonly string[]): Promise<TrustAssessment> {
  const roots = accessRoots(baseDir, workspace, granted);
  const items: TrustItem[] = [];
  const seen = new Set<string>();
  const add = (item: TrustItem) => {
    const key = canonicalJson(item);
    if (seen.has(key)) return;
    seen.add(key);
    items.push(item);
  };
  for (const inst of expandGraph(graph, registry).instances.values()) {
    const node = graph.nodes.get(inst.baseId);
    const def = node ? registry.get(node.type) : undefined;
    if (!def) continue;
    for (const name of def.codeParams ?? []) {
      const v = inst.params[name];
      if (!isEmpty(v)) add({ nodeId: inst.baseId, field: `params.${name}`, reason: def.confinedCode ? 'confined-code' : 'code', value: stringValue(v) });
    }
    for (const name of pathParamsOf(def, registry)) {
      const v = inst.params[name];
      if (typeof v !== 'string' || v === '' || NOT_A_PATH.test(v)) continue;
      const reach = globBase(v);
      refuseSpecialFile(inst.baseId, isAbsolute(reach) ? reach : resolve(baseDir, reach), `params.${name}`);
      if (!isAllowed(reach, roots)) add({ nodeId: inst.baseId, field: `params.${name}`, reason: 'path', value: realPath(isAbsolute(reach) ? reach : resolve(baseDir, reach)) });
    }
    let files: string[] = [];
    try {
      files = def.inputFiles ? await def.inputFiles(inst.params, baseDir, { id: inst.baseId }) : [];
    } catch {
      // A bad param is the node's own error to report when it runs.
    }
    for (const f of files) {
      refuseSpecialFile(inst.baseId, isAbsolute(f) ? f : resolve(baseDir, f));
      if (!isAllowed(f, roots)) add({ nodeId: inst.baseId, field: 'files', reason: 'path', value: realPath(isAbsolute(f) ? f : resolve(baseDir, f)) });
    }
  }
  items.sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1));
  const fingerprint = sha256(canonicalJson({ v: 1, items: items.map(({ nodeId, field, value }) => [nodeId, field, value]) }));
  return { fingerprint, items, needsTrust: items.filter((i) => i.reason !== 'confined-code'), roots };
}

/** Checked before any file is opened or hashed, so a FIFO or /dev/zero cannot hang or flood a run. */
function refuseSpecialFile(nodeId: string, path: string, field = 'files'): void {
  try {
    assertReadableKind(path);
  } catch (err) {
    if (!(err instanceof UnsafeFileError)) throw err;
    throw new GraphLoadError(`node ${nodeId}: ${err.message}`, [{ severity: 'error', code: 'unsafe-file', nodeId, file: path, field, message: err.message }]);
  }
}

/**
 * Fingerprints the user trusted, kept in the workspace's provenance database with what was trusted
 * and which folders were granted at the time, so `forge` and the app share one decision.
 */
export class TrustStore {
  constructor(private readonly ws: Workspace) {
    ws.db.db.exec(`CREATE TABLE IF NOT EXISTS trusted_graphs (
      fingerprint TEXT PRIMARY KEY,
      items TEXT NOT NULL,
      granted TEXT NOT NULL,
      trusted_at TEXT NOT NULL
    )`);
  }

  has(fingerprint: string): boolean {
    return this.ws.db.db.prepare('SELECT 1 FROM trusted_graphs WHERE fingerprint = ?').get(fingerprint) !== undefined;
  }

  add(a: TrustAssessment): void {
    this.ws.db.db
      .prepare('INSERT OR REPLACE INTO trusted_graphs (fingerprint, items, granted, trusted_at) VALUES (?, ?, ?, ?)')
      .run(a.fingerprint, JSON.stringify(a.items), JSON.stringify(a.roots.granted), new Date().toISOString());
  }
}

export interface RunPermission {
  /** The user consented for this run (`--trust`, a TTY answer, the app's dialog). */
  trust?: boolean;
  /** Folders granted for this run on top of the engine's standing grants. */
  allow?: readonly string[];
}

/**
 * The one gate every client passes (CLI, server, tests): refuses a graph that needs trust unless
 * the user gave it now or earlier for the same fingerprint. Consent given now is remembered.
 */
export async function assertRunAllowed(ws: Workspace, registry: NodeRegistry, graph: ValidGraph, baseDir: string, granted: readonly string[], permission: RunPermission): Promise<TrustAssessment> {
  const a = await assessTrust(graph, registry, baseDir, ws.root, [...granted, ...(permission.allow ?? [])]);
  if (a.needsTrust.length === 0) return a;
  const store = new TrustStore(ws);
  if (permission.trust) {
    store.add(a);
    return a;
  }
  if (store.has(a.fingerprint)) return a;
  throw new UntrustedGraphError(a, 'run with --trust after reviewing it, or grant a folder with --allow <dir>');
}
