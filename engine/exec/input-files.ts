import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { FilePin, GraphDocument } from '../graph/document.js';
import type { ValidGraph } from '../graph/validate.js';
import type { NodeRegistry } from '../registry.js';
import type { NodeType } from '../sdk/types.js';
import type { Workspace } from '../workspace.js';

export interface InputFile {
  /** As pinned: relative to the graph's folder, forward slashes. */
  path: string;
  abs: string;
  hash: string;
  bytes: number;
}

export class PinMismatchError extends Error {
  constructor(
    message: string,
    readonly nodeId: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'PinMismatchError';
  }
}

export function pinKey(baseDir: string, path: string): string {
  const abs = isAbsolute(path) ? path : resolve(baseDir, path);
  return relative(baseDir, abs).split(sep).join('/');
}

/** The files one node reads, hashed (memoised by stat). Missing files are the node's error, named. */
export async function hashInputFiles(ws: Workspace, def: NodeType, params: Record<string, unknown>, baseDir: string, nodeId: string): Promise<{ files: InputFile[]; declared: string[] }> {
  if (!def.inputFiles) return { files: [], declared: [] };
  const paths = await def.inputFiles(params, baseDir, { id: nodeId });
  const out: InputFile[] = [];
  for (const p of paths) {
    const abs = isAbsolute(p) ? p : resolve(baseDir, p);
    // A missing file is the node's own error to report (it knows the param); it cannot be hashed.
    if (!existsSync(abs)) continue;
    const { hash, bytes } = await ws.fileHash(abs);
    out.push({ path: pinKey(baseDir, abs), abs, hash, bytes });
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: out, declared: paths.map((p) => pinKey(baseDir, p)) };
}

/** Refuses a run whose pinned inputs differ from what is on disk, naming the node and file. */
export function checkPins(doc: GraphDocument, nodeId: string, files: InputFile[], declared: string[] = []): void {
  const pins = doc.pins?.files;
  if (!pins) return;
  const present = new Set(files.map((f) => f.path));
  for (const path of declared) {
    if (pins[path] && !present.has(path)) throw new PinMismatchError(`pinned input ${path} (read by node ${nodeId}) is missing`, nodeId, path);
  }
  for (const f of files) {
    const pin = pins[f.path];
    if (pin && pin.hash !== f.hash) {
      throw new PinMismatchError(
        `pinned input ${f.path} (read by node ${nodeId}) has changed: the config pins ${pin.hash}, the file on disk is ${f.hash}. Restore the original file, or re-export the config to pin the new one.`,
        nodeId,
        f.path,
      );
    }
  }
}

export async function computePins(ws: Workspace, registry: NodeRegistry, graph: ValidGraph, baseDir: string): Promise<Record<string, FilePin>> {
  const pins: Record<string, FilePin> = {};
  for (const id of graph.topo.order) {
    const node = graph.nodes.get(id);
    const def = node ? registry.get(node.type) : undefined;
    if (!def) continue;
    const { files } = await hashInputFiles(ws, def, graph.params.get(id) ?? {}, baseDir, id);
    for (const f of files) pins[f.path] = { hash: f.hash, bytes: f.bytes };
  }
  return Object.fromEntries(Object.entries(pins).sort(([a], [b]) => (a < b ? -1 : 1)));
}
