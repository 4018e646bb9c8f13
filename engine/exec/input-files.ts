import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { FilePin, GraphDocument } from '../graph/document.js';
import type { ValidGraph } from '../graph/validate.js';
import type { NodeRegistry } from '../registry.js';
import type { NodeType } from '../sdk/types.js';
import { NodeError } from '../sdk/node-error.js';
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
export async function hashInputFiles(ws: Workspace, def: NodeType, params: Record<string, unknown>, nodeId: string, baseDir: string): Promise<InputFile[]> {
  if (!def.inputFiles) return [];
  const paths = await def.inputFiles(params, baseDir);
  const out: InputFile[] = [];
  for (const p of paths) {
    const abs = isAbsolute(p) ? p : resolve(baseDir, p);
    if (!existsSync(abs)) throw new NodeError('input file not found', { nodeId, file: p });
    const { hash, bytes } = await ws.fileHash(abs);
    out.push({ path: pinKey(baseDir, abs), abs, hash, bytes });
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** Refuses a run whose pinned inputs differ from what is on disk, naming the node and file. */
export function checkPins(doc: GraphDocument, nodeId: string, files: InputFile[]): void {
  const pins = doc.pins?.files;
  if (!pins) return;
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
    for (const f of await hashInputFiles(ws, def, graph.params.get(id) ?? {}, id, baseDir)) pins[f.path] = { hash: f.hash, bytes: f.bytes };
  }
  return Object.fromEntries(Object.entries(pins).sort(([a], [b]) => (a < b ? -1 : 1)));
}
