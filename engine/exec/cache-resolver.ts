import type { FileHash, PortHash } from '../provenance/events.js';
import type { LastResult } from '../provenance/queries.js';
import type { NodeRegistry } from '../registry.js';
import { isDeferredManifest, NOT_WRITTEN } from '../sdk/dataset.js';
import { NodeError } from '../sdk/node-error.js';
import type { NodeType } from '../sdk/types.js';
import { canonicalJson } from '../util/hash.js';
import type { Workspace } from '../workspace.js';
import { cacheKey } from './cache-key.js';
import type { OutputInfo } from './events.js';
import type { InputSource, Instance } from './expand.js';
import { checkPins, hashInputFiles, PinMismatchError, type InputFile } from './input-files.js';
import type { InstancePlan } from './planner.js';

/** A node's connected inputs, from its parents' outputs: one per port, or every source on a fan-in port. */
export interface GatheredInputs {
  single: Record<string, OutputInfo>;
  multi: Record<string, { out: OutputInfo; src: InputSource }[]>;
}

export function gatherInputs(inst: Instance, def: NodeType, outputsOf: (instanceId: string) => readonly OutputInfo[] | undefined): GatheredInputs {
  const single: Record<string, OutputInfo> = {};
  const multi: Record<string, { out: OutputInfo; src: InputSource }[]> = {};
  for (const [port, sources] of inst.inputs) {
    for (const src of sources) {
      const out = outputsOf(src.instanceId)?.find((o) => o.port === src.port);
      if (!out) continue;
      if (def.inputs[port]?.multiple) (multi[port] ??= []).push({ out, src });
      else single[port] ??= out;
    }
  }
  return { single, multi };
}

/**
 * Preflight: hash every input file of the plan once, and refuse (throw PinMismatchError) before
 * anything runs if a pin does not match. A file a node cannot list is that node's error, kept.
 */
export async function hashPlanFiles(ws: Workspace, plan: InstancePlan, baseDir: string): Promise<Map<string, InputFile[] | NodeError>> {
  const out = new Map<string, InputFile[] | NodeError>();
  for (const id of plan.order) {
    const inst = plan.instance(id);
    try {
      const { files, declared } = await hashInputFiles(ws, plan.def(inst), inst.params, baseDir, inst.baseId);
      checkPins(plan.graph.doc, inst.baseId, files, declared);
      out.set(id, files);
    } catch (err) {
      if (err instanceof PinMismatchError) throw err;
      out.set(id, err instanceof NodeError ? err : new NodeError((err as Error).message, { nodeId: inst.baseId }));
    }
  }
  return out;
}

/** Everything the cache key of one instance is made of, and the key. */
export interface CacheIdentity {
  cacheKey: string;
  codeHash: string;
  /** As recorded in provenance: one row per port, `port#n` for each source of a fan-in port. */
  inputs: PortHash[];
  files: FileHash[];
}

export function cacheIdentity(registry: NodeRegistry, inst: Instance, def: NodeType, seed: number, gathered: GatheredInputs, files: readonly InputFile[], deferred = false): CacheIdentity {
  const codeHash = registry.codeHash(def.type);
  const keyInputs: Record<string, unknown> = Object.fromEntries(Object.entries(gathered.single).map(([p, o]) => [p, o.hash]));
  for (const [p, items] of Object.entries(gathered.multi)) keyInputs[p] = items.map((i) => ({ hash: i.out.hash, variant: i.src.variant, from: i.src.fromNode }));
  const key = cacheKey({
    nodeType: def.type,
    nodeVersion: def.version,
    codeHash,
    params: inst.params,
    inputs: keyInputs,
    files: Object.fromEntries(files.map((f) => [f.path, f.hash])),
    seed,
    ...(deferred ? { deferred: true as const } : {}),
  });
  return {
    cacheKey: key,
    codeHash,
    inputs: [
      ...Object.entries(gathered.single).map(([port, o]) => ({ port, hash: o.hash })),
      ...Object.entries(gathered.multi).flatMap(([port, items]) => items.map((i, n) => ({ port: `${port}#${n}`, hash: i.out.hash }))),
    ],
    files: files.map((f) => ({ path: f.path, hash: f.hash, bytes: f.bytes })),
  };
}

export interface CacheHit {
  executionId: string;
  outputs: PortHash[];
}

/** The newest reusable result for this key whose artifacts are all still in the store. */
export function lookupCache(ws: Workspace, key: string, usable: (hash: string) => boolean = (h) => ws.store.has(h)): CacheHit | null {
  return ws.queries.findCached(key, usable);
}

/** What a node's result is compared with to explain a miss. */
export interface MissFacts {
  nodeType: string;
  nodeVersion: number;
  codeHash: string;
  params: Record<string, unknown>;
  seed: number;
  /** null when an upstream node will run first, so the input data is not known yet. */
  inputs: PortHash[] | null;
  files: FileHash[];
  cacheKey: string | null;
}

/**
 * Why a node will run, in words, comparing what it would be made of now with its last result: node
 * version, code, params, seed, input files, upstream data. Empty when nothing it knows changed.
 */
/** The cause when nothing the key is made of changed, yet nothing is reusable. */
export const ARTIFACTS_GONE = 'the cached result’s artifacts are gone from the store';

export function staleCauses(last: LastResult | null, now: MissFacts): string[] {
  if (!last) return ['never run in this workspace'];
  if (last.nodeType !== now.nodeType) return [`node type changed (${last.nodeType} → ${now.nodeType})`];
  const causes: string[] = [];
  if (last.nodeVersion !== now.nodeVersion) causes.push(`node type version changed (${last.nodeVersion} → ${now.nodeVersion})`);
  if (last.codeHash !== now.codeHash) causes.push('node code changed');
  const keys = [...new Set([...Object.keys(last.params), ...Object.keys(now.params)])].sort();
  const changed = keys.filter((k) => canonicalJson(last.params[k] ?? null) !== canonicalJson(now.params[k] ?? null));
  if (changed.length > 0) causes.push(`param${changed.length > 1 ? 's' : ''} changed: ${changed.join(', ')}`);
  if (last.seed !== null && last.seed !== now.seed) causes.push(`graph seed changed (${last.seed} → ${now.seed})`);
  const nowFiles = Object.fromEntries(now.files.map((f) => [f.path, f.hash]));
  for (const path of [...new Set([...Object.keys(last.files), ...Object.keys(nowFiles)])].sort()) {
    if (!(path in nowFiles)) causes.push(`input file no longer read: ${path}`);
    else if (!(path in last.files)) causes.push(`new input file: ${path}`);
    else if (last.files[path] !== nowFiles[path]) causes.push(`input file changed: ${path}`);
  }
  if (now.inputs) {
    const before = new Map(last.inputs.map((i) => [i.port, i.hash]));
    const after = new Map(now.inputs.map((i) => [i.port, i.hash]));
    const ports = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
    if (ports.length > 0) causes.push(`upstream data changed on ${ports.map((p) => `"${p}"`).join(', ')}`);
  }
  if (causes.length === 0 && now.cacheKey !== null && now.cacheKey === last.cacheKey) causes.push(ARTIFACTS_GONE);
  return causes;
}

/** A bypassed node hands each output the connected input of the same kind; a message when one has none. */
export function passThrough(def: NodeType, inputs: Record<string, OutputInfo>): OutputInfo[] | string {
  const outputs: OutputInfo[] = [];
  for (const [port, spec] of Object.entries(def.outputs)) {
    const through = Object.values(inputs).find((i) => i.kind === spec.kind);
    if (!through) return `cannot bypass: no connected input of kind ${spec.kind} to pass to output "${port}"`;
    outputs.push({ ...through, port });
  }
  return outputs;
}

/** A pinned node's outputs, each an artifact in this workspace; a message when one is not. */
export function pinnedOutputs(ws: Workspace, def: NodeType, pins: Record<string, string>): PortHash[] | string {
  const outputs: PortHash[] = [];
  for (const port of Object.keys(def.outputs)) {
    const hash = pins[port];
    if (!hash) return `output "${port}" is not pinned; pin every output or unpin the node`;
    if (!ws.store.has(hash)) return `pinned artifact ${hash} for output "${port}" is not in this workspace`;
    // A recipe rereads its input files when computed: pinning one would not freeze the rows.
    if (isDeferredManifest(ws.store.manifest(hash))) return `pinned artifact ${hash} for output "${port}" ${NOT_WRITTEN}, then pin that`;
    outputs.push({ port, hash });
  }
  return outputs;
}
