import { randomBytes, randomUUID } from 'node:crypto';
import { hostname, availableParallelism } from 'node:os';
import { formatLocation, type ErrorLocation } from '../graph/errors.js';
import type { GraphDocument, GraphNode } from '../graph/document.js';
import { ancestors, descendants } from '../graph/topology.js';
import type { ValidGraph } from '../graph/validate.js';
import { captureEnvironment } from '../provenance/environment.js';
import type { PortHash, ProvenanceEvent, RunMode } from '../provenance/events.js';
import type { NodeRegistry } from '../registry.js';
import { CancelledError, NodeError } from '../sdk/node-error.js';
import type { ArtifactRef, NodeType } from '../sdk/types.js';
import { canonicalJson, hashValue } from '../util/hash.js';
import type { Workspace } from '../workspace.js';
import { cacheKey } from './cache-key.js';
import { shardCacheSlot } from './shards/shard-cache.js';
import type { NodeOutcome, OutputInfo, RunEvent, RunSummary } from './events.js';
import { LocalExecutor, type Executor } from './executor.js';
import { checkPins, hashInputFiles, PinMismatchError, type InputFile } from './input-files.js';
import { expandGraph, type InputSource, type Instance } from './expand.js';
import type { WorkUnit } from './work-unit.js';

export interface RunOptions {
  mode?: RunMode;
  /** The node for `node` and `from` modes. */
  target?: string;
  /** Re-execute every planned node even where a cached result exists. */
  force?: boolean;
  trigger?: string;
  graphPath?: string | null;
  /** Relative paths in params resolve against this folder (the graph document's). */
  baseDir: string;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  concurrency?: number;
  executor?: Executor;
}

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export function graphHash(doc: GraphDocument): string {
  return hashValue('forge-graph-v1', doc);
}

/** Which nodes a run visits, and which of them must execute even if cached. */
export function planRun(graph: ValidGraph, mode: RunMode, target?: string): { planned: Set<string>; forced: Set<string> } {
  if (mode === 'all') return { planned: new Set(graph.topo.order), forced: new Set() };
  if (!target || !graph.nodes.has(target)) throw new Error(`no node "${target ?? ''}" in this graph`);
  if (mode === 'node') return { planned: new Set([target, ...ancestors(graph.topo, target)]), forced: new Set([target]) };
  const forced = new Set([target, ...descendants(graph.topo, target)]);
  const planned = new Set(forced);
  for (const id of forced) for (const a of ancestors(graph.topo, id)) planned.add(a);
  return { planned, forced };
}

/**
 * Runs a validated graph: topological, independent branches concurrently, cache-aware, recorded in
 * provenance. A failure stops only the nodes downstream of it; cancellation publishes nothing half-done.
 */
export async function runGraph(ws: Workspace, registry: NodeRegistry, graph: ValidGraph, opts: RunOptions): Promise<RunSummary> {
  const mode = opts.mode ?? 'all';
  const plan = planRun(graph, mode, opts.target);
  if (opts.force) for (const id of plan.planned) plan.forced.add(id);
  const expanded = expandGraph(graph, registry);
  const instancesOf = (bases: Set<string>) => new Set([...bases].flatMap((b) => expanded.byBase.get(b) ?? []));
  const planned = instancesOf(plan.planned);
  const forced = instancesOf(plan.forced);
  const order = expanded.order.filter((id) => planned.has(id));
  const instance = (id: string): Instance => expanded.instances.get(id) as Instance;
  const defOf = (inst: Instance): NodeType => {
    const node = graph.nodes.get(inst.baseId);
    const def = node ? registry.get(node.type) : undefined;
    if (!def) throw new Error(`internal: node ${inst.baseId} missing after validation`);
    return def;
  };

  // Preflight: hash every input file once, and refuse before anything runs if a pin does not match.
  const inputFiles = new Map<string, InputFile[] | NodeError>();
  for (const id of order) {
    const inst = instance(id);
    try {
      const { files, declared } = await hashInputFiles(ws, defOf(inst), inst.params, opts.baseDir);
      checkPins(graph.doc, inst.baseId, files, declared);
      inputFiles.set(id, files);
    } catch (err) {
      if (err instanceof PinMismatchError) throw err;
      inputFiles.set(id, err instanceof NodeError ? err : new NodeError((err as Error).message, { nodeId: inst.baseId }));
    }
  }

  const runId = newRunId();
  const started = performance.now();
  const emit = opts.onEvent ?? (() => {});
  const executor = opts.executor ?? new LocalExecutor();
  const ownsExecutor = !opts.executor;
  const signal = opts.signal ?? new AbortController().signal;
  const gHash = graphHash(graph.doc);

  // Snapshots are content-addressed: the event log keeps each distinct graph once.
  if (!ws.db.db.prepare('SELECT 1 FROM graphs WHERE hash = ?').get(gHash)) {
    ws.db.record({ type: 'graph.saved', hash: gHash, name: graph.doc.name ?? null, doc: canonicalJson(graph.doc) });
  }
  ws.db.record({
    type: 'run.started',
    runId,
    graphHash: gHash,
    graphPath: opts.graphPath ?? null,
    trigger: opts.trigger ?? 'api',
    mode,
    target: opts.target ?? null,
    environment: captureEnvironment(registry),
    pid: process.pid,
    host: hostname(),
  });
  emit({
    type: 'run.started',
    runId,
    mode,
    target: opts.target ?? null,
    nodes: order,
    forced: [...forced],
    instances: Object.fromEntries(order.map((id) => [id, instance(id).baseId])),
  });

  const outcomes = new Map<string, Promise<NodeOutcome>>();
  const slots = new Semaphore(opts.concurrency ?? availableParallelism());

  const base = (inst: Instance, def: NodeType) => ({ nodeId: inst.id, baseNodeId: inst.baseId, variant: inst.variant, nodeType: def.type });

  const visit = async (id: string): Promise<NodeOutcome> => {
    const inst = instance(id);
    const def = defOf(inst);
    const node = graph.nodes.get(inst.baseId) as GraphNode;
    const parentOutcomes = await Promise.all(inst.parents.filter((p) => planned.has(p)).map((p) => outcomes.get(p) as Promise<NodeOutcome>));
    const blocked = parentOutcomes.find((o) => !isSuccess(o));
    if (blocked || signal.aborted) {
      const reason = signal.aborted ? 'run cancelled before this node started' : `upstream node ${blocked?.nodeId} ${blocked?.state}`;
      return skip(inst, def, reason, signal.aborted ? 'cancelled' : 'skipped');
    }
    const upstream = new Map(parentOutcomes.map((o) => [o.nodeId, o]));
    const single: Record<string, OutputInfo> = {};
    const multi: Record<string, { out: OutputInfo; src: InputSource }[]> = {};
    for (const [port, sources] of inst.inputs) {
      for (const src of sources) {
        const out = upstream.get(src.instanceId)?.outputs.find((o) => o.port === src.port);
        if (!out) continue;
        if (def.inputs[port]?.multiple) (multi[port] ??= []).push({ out, src });
        else single[port] ??= out;
      }
    }

    if (node.bypass) return bypass(inst, def, single);
    if (node.pinnedOutputs) return pinned(inst, def, node.pinnedOutputs, single);

    const files = inputFiles.get(id);
    const codeHash = registry.codeHash(def.type);
    const keyInputs: Record<string, unknown> = Object.fromEntries(Object.entries(single).map(([p, o]) => [p, o.hash]));
    for (const [p, items] of Object.entries(multi)) keyInputs[p] = items.map((i) => ({ hash: i.out.hash, variant: i.src.variant, from: i.src.fromNode }));
    const fileList = files instanceof NodeError || !files ? [] : files;
    const key = cacheKey({
      nodeType: def.type,
      nodeVersion: def.version,
      codeHash,
      params: inst.params,
      inputs: keyInputs,
      files: Object.fromEntries(fileList.map((f) => [f.path, f.hash])),
      seed: graph.doc.seed,
    });
    const portHashes: PortHash[] = [
      ...Object.entries(single).map(([port, o]) => ({ port, hash: o.hash })),
      ...Object.entries(multi).flatMap(([port, items]) => items.map((i, n) => ({ port: `${port}#${n}`, hash: i.out.hash }))),
    ];
    const fileHashes = fileList.map((f) => ({ path: f.path, hash: f.hash, bytes: f.bytes }));
    const executionId = randomUUID();
    const common = { runId, executionId, nodeId: id, nodeType: def.type, nodeVersion: def.version, codeHash, params: inst.params, cacheKey: key, inputs: portHashes, files: fileHashes };

    if (!forced.has(id) && !(files instanceof NodeError)) {
      const hit = ws.queries.findCached(key, (h) => ws.store.has(h));
      if (hit) {
        ws.db.record({ type: 'execution.cached', ...common, reusedExecutionId: hit.executionId, outputs: hit.outputs });
        const outcome: NodeOutcome = { ...base(inst, def), state: 'cached', executionId, durationMs: 0, outputs: hit.outputs.map((o) => outputInfo(o)) };
        emit({ type: 'node.cached', runId, nodeId: id, outcome });
        return outcome;
      }
    }

    await slots.acquire();
    const t0 = performance.now();
    const logs: string[] = [];
    ws.db.record({ type: 'execution.started', ...common });
    emit({ type: 'node.started', runId, nodeId: id, executionId });
    // Recorded with the execution's `execution.finished`, in the same transaction.
    const published: ProvenanceEvent[] = [];
    try {
      if (files instanceof NodeError) throw files;
      if (signal.aborted) throw new CancelledError();
      const unit: WorkUnit = {
        executionId,
        registryModule: registry.moduleUrl,
        nodeId: inst.baseId,
        nodeType: def.type,
        label: node.label,
        params: inst.params,
        seed: graph.doc.seed,
        baseDir: opts.baseDir,
        tmpDir: ws.tmpDir,
        inputs: Object.fromEntries(Object.entries(single).map(([p, o]) => [p, ws.store.ref(o.hash) satisfies ArtifactRef])),
        multiInputs: Object.fromEntries(
          Object.entries(multi).map(([p, items]) => [p, items.map((i) => ({ ref: ws.store.ref(i.out.hash), variant: i.src.variant, fromNode: i.src.fromNode }))]),
        ),
        variant: inst.variant,
        outputs: Object.fromEntries(Object.entries(def.outputs).map(([p, spec]) => [p, { kind: spec.kind, dir: ws.store.createStaging(executionId, p) }])),
        // scale hook: shard-level resume cache for shard-parallel nodes (not when forced: --force recomputes every shard).
        shardCache: forced.has(id) ? undefined : shardCacheSlot(ws.store.forgeDir, { nodeType: def.type, nodeVersion: def.version, codeHash, params: inst.params, files: fileList, seed: graph.doc.seed }),
      };
      const result = await executor.run(
        def,
        unit,
        {
          progress: (done, total, message) => emit({ type: 'node.progress', runId, nodeId: id, done, total, message }),
          log: (level, message) => {
            logs.push(`[${level}] ${message}`);
            emit({ type: 'node.log', runId, nodeId: id, level, message });
          },
        },
        signal,
      );
      if (signal.aborted) throw new CancelledError();
      const outputs: OutputInfo[] = [];
      for (const [port, desc] of Object.entries(result.outputs)) {
        const manifest = await ws.store.publish(unit.outputs[port]?.dir as string, desc);
        published.push({ type: 'artifact.published', executionId, manifest });
        outputs.push({ port, hash: manifest.hash, kind: manifest.kind, rows: manifest.rows ?? null, bytes: manifest.bytes });
      }
      const durationMs = performance.now() - t0;
      ws.db.recordAll([
        ...published,
        {
          type: 'execution.finished',
          runId,
          executionId,
          status: 'succeeded',
        durationMs,
        error: null,
        errorLocation: null,
        logs,
          device: result.device,
          outputs: outputs.map(({ port, hash }) => ({ port, hash })),
        },
      ]);
      const outcome: NodeOutcome = { ...base(inst, def), state: 'executed', executionId, durationMs, outputs, device: result.device };
      emit({ type: 'node.finished', runId, nodeId: id, outcome });
      return outcome;
    } catch (err) {
      ws.store.discardStaging(executionId);
      const durationMs = performance.now() - t0;
      const cancelled = err instanceof CancelledError || signal.aborted;
      const location: ErrorLocation = { ...(err instanceof NodeError ? err.location : {}), nodeId: inst.baseId };
      const message = cancelled ? 'cancelled' : err instanceof NodeError ? err.message : `internal error in ${def.type}: ${(err as Error).message}`;
      // Artifacts published before the failure (an earlier output port) stay on record.
      ws.db.recordAll([
        ...published,
        {
          type: 'execution.finished',
          runId,
          executionId,
          status: cancelled ? 'cancelled' : 'failed',
          durationMs,
          error: message,
          errorLocation: cancelled ? null : location,
          logs,
          device: null,
          outputs: [],
        },
      ]);
      const outcome: NodeOutcome = { ...base(inst, def), state: cancelled ? 'cancelled' : 'failed', executionId, durationMs, outputs: [], error: message, location };
      emit({ type: cancelled ? 'node.skipped' : 'node.failed', runId, nodeId: id, outcome });
      return outcome;
    } finally {
      ws.store.discardStaging(executionId);
      slots.release();
    }
  };

  const skip = (inst: Instance, def: NodeType, reason: string, state: 'skipped' | 'cancelled'): NodeOutcome => {
    const executionId = randomUUID();
    ws.db.record({ type: 'execution.skipped', runId, executionId, nodeId: inst.id, nodeType: def.type, nodeVersion: def.version, reason });
    const outcome: NodeOutcome = { ...base(inst, def), state, executionId, durationMs: 0, outputs: [], error: reason };
    emit({ type: 'node.skipped', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  const bypass = (inst: Instance, def: NodeType, inputs: Record<string, OutputInfo>): NodeOutcome => {
    const outputs: OutputInfo[] = [];
    for (const [port, spec] of Object.entries(def.outputs)) {
      const through = Object.values(inputs).find((i) => i.kind === spec.kind);
      if (!through) return fail(inst, def, `cannot bypass: no connected input of kind ${spec.kind} to pass to output "${port}"`);
      outputs.push({ ...through, port });
    }
    const outcome: NodeOutcome = { ...base(inst, def), state: 'bypassed', executionId: null, durationMs: 0, outputs };
    emit({ type: 'node.cached', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  const pinned = (inst: Instance, def: NodeType, pins: Record<string, string>, inputs: Record<string, OutputInfo>): NodeOutcome => {
    const outputs: OutputInfo[] = [];
    for (const port of Object.keys(def.outputs)) {
      const hash = pins[port];
      if (!hash) return fail(inst, def, `output "${port}" is not pinned; pin every output or unpin the node`);
      if (!ws.store.has(hash)) return fail(inst, def, `pinned artifact ${hash} for output "${port}" is not in this workspace`);
      outputs.push(outputInfo({ port, hash }));
    }
    const executionId = randomUUID();
    ws.db.record({
      type: 'execution.cached',
      runId,
      executionId,
      nodeId: inst.id,
      nodeType: def.type,
      nodeVersion: def.version,
      codeHash: registry.codeHash(def.type),
      params: inst.params,
      cacheKey: 'pinned',
      reusedExecutionId: ws.queries.artifact(outputs[0]?.hash ?? '')?.producerExecutionId ?? null,
      inputs: Object.entries(inputs).map(([port, o]) => ({ port, hash: o.hash })),
      files: [],
      outputs: outputs.map(({ port, hash }) => ({ port, hash })),
    });
    const outcome: NodeOutcome = { ...base(inst, def), state: 'pinned', executionId, durationMs: 0, outputs };
    emit({ type: 'node.cached', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  const fail = (inst: Instance, def: NodeType, message: string): NodeOutcome => {
    const executionId = randomUUID();
    ws.db.record({ type: 'execution.skipped', runId, executionId, nodeId: inst.id, nodeType: def.type, nodeVersion: def.version, reason: message });
    const outcome: NodeOutcome = { ...base(inst, def), state: 'failed', executionId, durationMs: 0, outputs: [], error: message, location: { nodeId: inst.baseId } };
    emit({ type: 'node.failed', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  const outputInfo = (o: PortHash): OutputInfo => {
    const m = ws.store.manifest(o.hash);
    return { port: o.port, hash: o.hash, kind: m.kind, rows: m.rows ?? null, bytes: m.bytes };
  };

  let summary: RunSummary;
  try {
    for (const id of order) outcomes.set(id, visit(id));
    const results = await Promise.all(order.map((id) => outcomes.get(id) as Promise<NodeOutcome>));
    const status = signal.aborted ? 'cancelled' : results.some((r) => r.state === 'failed') ? 'failed' : 'succeeded';
    const firstError = results.find((r) => r.state === 'failed');
    ws.db.record({
      type: 'run.finished',
      runId,
      status,
      error: firstError ? `${formatLocation(firstError.location ?? {})}: ${firstError.error}` : null,
    });
    summary = { runId, status, mode, durationMs: performance.now() - started, nodes: results };
  } catch (err) {
    ws.db.record({ type: 'run.finished', runId, status: 'failed', error: `engine error: ${(err as Error).message}` });
    throw err;
  } finally {
    if (ownsExecutor) await executor.close();
  }
  emit({ type: 'run.finished', runId, summary });
  return summary;
}

function isSuccess(o: NodeOutcome): boolean {
  return o.state === 'executed' || o.state === 'cached' || o.state === 'bypassed' || o.state === 'pinned';
}

/** Bounds how many nodes execute at once; cache hits never take a slot. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
