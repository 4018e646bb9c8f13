import type { ValidGraph } from '../graph/validate.js';
import type { PortHash, RunMode } from '../provenance/events.js';
import type { NodeRegistry } from '../registry.js';
import { isDeferredManifest } from '../sdk/dataset.js';
import { NodeError } from '../sdk/node-error.js';
import type { ArtifactManifest } from '../sdk/types.js';
import type { Workspace } from '../workspace.js';
import { ARTIFACTS_GONE, cacheIdentity, gatherInputs, hashPlanFiles, lookupCache, passThrough, pinnedOutputs, staleCauses, type CacheIdentity } from './cache-resolver.js';
import type { OutputInfo } from './events.js';
import { planInstances, type InstancePlan, type PlanRequest } from './planner.js';

/**
 * What a run would do with each node, decided by the same planner and cache resolver the run
 * uses. `run` with the reasons; `cached` with the result it would reuse. A node below one that will
 * run has no key yet (its inputs are not made), so its key is null and the plan says it will run:
 * conservative, since a re-executed upstream that reproduces its old output lets the run reuse it.
 */
export type PlanAction = 'cached' | 'run' | 'bypassed' | 'pinned' | 'error';

export interface PlannedNode {
  /** Instance id: the node id, or `node[sweep values]`. */
  nodeId: string;
  baseNodeId: string;
  nodeType: string;
  variant: Record<string, number | string | boolean>;
  action: PlanAction;
  cacheKey: string | null;
  /** Why it will run (or why it cannot): empty for cached, bypassed and pinned nodes. */
  reasons: string[];
  /** For `cached`: the execution whose outputs are reused, and those outputs. */
  reusedExecutionId?: string;
  outputs?: PortHash[];
  /** Its outputs are recipes its only consumer computes in its own pass, not written rows (engine/exec/deferral.ts). */
  deferred?: true;
}

export interface GraphPlan {
  mode: RunMode;
  target: string | null;
  seed: number;
  nodes: PlannedNode[];
}

export async function planGraph(ws: Workspace, registry: NodeRegistry, graph: ValidGraph, req: PlanRequest & { baseDir: string }): Promise<GraphPlan> {
  const plan = planInstances(graph, registry, req);
  const files = await hashPlanFiles(ws, plan, req.baseDir);
  // Outputs each instance will offer downstream; null when they are only known after it runs.
  const known = new Map<string, OutputInfo[] | null>();
  const nodes: PlannedNode[] = [];
  const seed = graph.doc.seed;

  for (const id of plan.order) {
    const inst = plan.instance(id);
    const def = plan.def(inst);
    const node = plan.node(inst);
    const base = { nodeId: id, baseNodeId: inst.baseId, nodeType: def.type, variant: inst.variant, ...(plan.deferred.has(id) ? { deferred: true as const } : {}) };
    const pending = inst.parents.filter((p) => plan.planned.has(p) && known.get(p) === null);
    const gathered = gatherInputs(inst, def, (p) => known.get(p) ?? undefined);

    if (node.bypass) {
      const through = pending.length > 0 ? null : passThrough(def, gathered.single);
      if (typeof through === 'string') {
        known.set(id, null);
        nodes.push({ ...base, action: 'error', cacheKey: null, reasons: [through] });
      } else {
        known.set(id, through);
        nodes.push({ ...base, action: 'bypassed', cacheKey: null, reasons: [] });
      }
      continue;
    }
    if (node.pinnedOutputs) {
      const outputs = pinnedOutputs(ws, def, node.pinnedOutputs);
      if (typeof outputs === 'string') {
        known.set(id, null);
        nodes.push({ ...base, action: 'error', cacheKey: null, reasons: [outputs] });
      } else {
        known.set(
          id,
          outputs.map((o) => outputInfo(ws, o)),
        );
        nodes.push({ ...base, action: 'pinned', cacheKey: 'pinned', reasons: [], outputs });
      }
      continue;
    }
    const fileList = files.get(id);
    if (fileList instanceof NodeError || !fileList) {
      known.set(id, null);
      nodes.push({ ...base, action: 'error', cacheKey: null, reasons: [fileList instanceof NodeError ? fileList.message : 'input files unknown'] });
      continue;
    }

    const ident: CacheIdentity | null = pending.length === 0 ? cacheIdentity(registry, inst, def, seed, gathered, fileList, plan.deferred.has(id)) : null;
    const forced = plan.forced.has(id);
    const hit = ident && !forced ? lookupCache(ws, ident.cacheKey) : null;
    if (hit) {
      known.set(
        id,
        hit.outputs.map((o) => outputInfo(ws, o)),
      );
      nodes.push({ ...base, action: 'cached', cacheKey: ident?.cacheKey ?? null, reasons: [], reusedExecutionId: hit.executionId, outputs: hit.outputs });
      continue;
    }
    const reasons: string[] = [];
    if (forced) reasons.push(forcedReason(plan, req, inst.baseId));
    const causes = staleCauses(ws.queries.lastResultOf(id), {
      nodeType: def.type,
      nodeVersion: def.version,
      codeHash: registry.codeHash(def.type),
      params: inst.params,
      seed,
      inputs: ident ? ident.inputs : null,
      files: fileList.map((f) => ({ path: f.path, hash: f.hash, bytes: f.bytes })),
      cacheKey: ident?.cacheKey ?? null,
    });
    // A forced node's unchanged key is expected, not a lost cache entry.
    reasons.push(...causes.filter((c) => !forced || c !== ARTIFACTS_GONE));
    for (const p of pending) reasons.push(`upstream "${p}" will run`);
    if (reasons.length === 0) reasons.push('no reusable result for this cache key');
    known.set(id, null);
    nodes.push({ ...base, action: 'run', cacheKey: ident?.cacheKey ?? null, reasons });
  }
  return { mode: plan.mode, target: plan.target, seed, nodes };
}

function forcedReason(plan: InstancePlan, req: PlanRequest, baseId: string): string {
  if (req.force) return 'forced: re-execute every node';
  if (plan.mode === 'node') return 'the node asked to run';
  return baseId === plan.target ? 'the node a run-from starts at' : `downstream of "${plan.target ?? ''}" in a run-from`;
}

export function outputInfo(ws: Workspace, o: PortHash): OutputInfo {
  return outputOf(o.port, ws.store.manifest(o.hash));
}

/** What a run reports of one output, from its artifact's manifest. */
export function outputOf(port: string, m: ArtifactManifest): OutputInfo {
  return { port, hash: m.hash, kind: m.kind, rows: m.rows ?? null, bytes: m.bytes, ...(isDeferredManifest(m) ? { deferred: true as const } : {}) };
}
