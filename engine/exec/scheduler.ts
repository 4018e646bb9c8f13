import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { formatLocation, type ErrorLocation } from '../graph/errors.js';
import type { GraphDocument } from '../graph/document.js';
import type { ValidGraph } from '../graph/validate.js';
import { captureEnvironment } from '../provenance/environment.js';
import type { RunMode } from '../provenance/events.js';
import { RunRecorder, type ExecutionFacts, type ExecutionIdentity } from '../provenance/recorder.js';
import type { NodeRegistry } from '../registry.js';
import { CancelledError, NodeError } from '../sdk/node-error.js';
import type { ArtifactManifest, ArtifactRef, NodeType } from '../sdk/types.js';
import { explainDiskFull, withDiskFull } from '../util/disk-full.js';
import { explainOutOfMemory } from '../util/out-of-memory.js';
import { canonicalJson, hashValue } from '../util/hash.js';
import type { Workspace } from '../workspace.js';
import { usableArtifact } from '../security/artifact-check.js';
import { ExecutionLeases } from '../security/lease.js';
import { accessRoots, rootList } from '../security/access.js';
import { declaredPaths } from '../security/trust.js';
import type { InputFile } from './input-files.js';
import { cacheIdentity, gatherInputs, hashPlanFiles, lookupCache, passThrough, pinnedOutputs, type GatheredInputs } from './cache-resolver.js';
import { shardCacheSlot } from './shards/shard-cache.js';
import type { NodeOutcome, OutputInfo, RunEvent, RunSummary } from './events.js';
import { ExecutorError, LocalExecutor, type Executor } from './executor.js';
import type { Instance } from './expand.js';
import { outputInfo, outputOf } from './plan.js';
import { writeRecipes } from './deferred-recipe.js';
import { watchPeakRss } from './peak-rss.js';
import { planInstances } from './planner.js';
import type { WorkUnit } from './work-unit.js';

export { planRun } from './planner.js';

export interface RunOptions {
  mode?: RunMode;
  /** The node for `node` and `from` modes. */
  target?: string;
  /** Re-execute every planned node even where a cached result exists. */
  force?: boolean;
  /** Let consumers compute deferrable datasets in their own pass (engine/exec/deferral.ts); default unless FORGE_DEFER=0. */
  defer?: boolean;
  /**
   * When a node fails, keep running the branches that do not depend on it (its descendants are
   * skipped either way). Off: nodes not yet started when a failure happens are skipped.
   */
  continueOnFailure?: boolean;
  trigger?: string;
  graphPath?: string | null;
  /** Relative paths in params resolve against this folder (the graph document's). */
  baseDir: string;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  concurrency?: number;
  executor?: Executor;
  /** Folders the user granted beyond the graph folder and workspace (`--allow`, the app's setting); recorded in provenance. */
  granted?: readonly string[];
}

export function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export function graphHash(doc: GraphDocument): string {
  return hashValue('forge-graph-v1', doc);
}

/**
 * Runs a validated graph: topological, independent branches concurrently, cache-aware, recorded in
 * provenance. The parts have names: the planner decides which instances run in which order, the
 * cache resolver keys and looks them up, the executor runs a unit of work, the recorder writes
 * provenance. This function wires them and owns only ordering, slots, events and failure policy.
 */
export async function runGraph(ws: Workspace, registry: NodeRegistry, graph: ValidGraph, opts: RunOptions): Promise<RunSummary> {
  const plan = planInstances(graph, registry, opts);
  const { mode, order } = plan;
  const inputFiles = await hashPlanFiles(ws, plan, opts.baseDir);
  const roots = accessRoots(opts.baseDir, ws.root, opts.granted ?? []);

  const runId = newRunId();
  const started = performance.now();
  const emit = opts.onEvent ?? (() => {});
  const executor = opts.executor ?? new LocalExecutor();
  const ownsExecutor = !opts.executor;
  const signal = opts.signal ?? new AbortController().signal;
  const recorder = new RunRecorder(ws.db, runId);
  // Without continueOnFailure the first failure stops the run: nothing new starts after it.
  let stoppedBy: string | null = null;

  recorder.started({
    graphHash: graphHash(graph.doc),
    name: graph.doc.name ?? null,
    canonicalDoc: canonicalJson(graph.doc),
    graphPath: opts.graphPath ?? null,
    trigger: opts.trigger ?? 'api',
    mode,
    target: opts.target ?? null,
    environment: { ...captureEnvironment(registry), grantedFolders: roots.granted },
  });
  emit({
    type: 'run.started',
    runId,
    mode,
    target: opts.target ?? null,
    nodes: order,
    forced: [...plan.forced],
    instances: Object.fromEntries(order.map((id) => [id, plan.instance(id).baseId])),
  });

  const outcomes = new Map<string, Promise<NodeOutcome>>();
  const slots = new Semaphore(opts.concurrency ?? availableParallelism());
  const leases = new ExecutionLeases(ws);
  const base = (inst: Instance, def: NodeType) => ({ nodeId: inst.id, baseNodeId: inst.baseId, variant: inst.variant, nodeType: def.type });
  const identity = (inst: Instance, def: NodeType): ExecutionIdentity => ({ executionId: randomUUID(), nodeId: inst.id, nodeType: def.type, nodeVersion: def.version });

  const notStarting = (): { reason: string; state: 'skipped' | 'cancelled' } | null => {
    if (signal.aborted) return { reason: 'run cancelled before this node started', state: 'cancelled' };
    if (stoppedBy !== null) return { reason: `run stopped after node ${stoppedBy} failed (continueOnFailure is off)`, state: 'skipped' };
    return null;
  };

  const visit = async (id: string): Promise<NodeOutcome> => {
    const inst = plan.instance(id);
    const def = plan.def(inst);
    const node = plan.node(inst);
    const parentOutcomes = await Promise.all(inst.parents.filter((p) => plan.planned.has(p)).map((p) => outcomes.get(p) as Promise<NodeOutcome>));
    const blocked = parentOutcomes.find((o) => !isSuccess(o));
    if (blocked) return skip(inst, def, `upstream node ${blocked.nodeId} ${blocked.state}`, signal.aborted ? 'cancelled' : 'skipped');
    const stop = notStarting();
    if (stop) return skip(inst, def, stop.reason, stop.state);
    const upstream = new Map(parentOutcomes.map((o) => [o.nodeId, o.outputs]));
    const gathered = gatherInputs(inst, def, (p) => upstream.get(p));

    if (node.bypass) return bypass(inst, def, gathered.single);
    if (node.pinnedOutputs) return pinned(inst, def, node.pinnedOutputs, gathered.single);

    const files = inputFiles.get(id);
    // A cached deferred node still hands its declared paths to the consumer that computes it.
    if (plan.deferred.has(id)) declaredFor(inst, def, files);
    const ident = cacheIdentity(registry, inst, def, graph.doc.seed, gathered, files instanceof NodeError || !files ? [] : files, plan.deferred.has(id));
    const facts: ExecutionFacts = { ...identity(inst, def), codeHash: ident.codeHash, params: inst.params, cacheKey: ident.cacheKey, inputs: ident.inputs, files: ident.files };

    const fromCache = (): NodeOutcome | null => {
      // SECURITY: reuse only intact artifacts (and sink files still as written); see engine/security/artifact-check.ts.
      const warn = (message: string) => emit({ type: 'node.log', runId, nodeId: id, level: 'warn', message });
      const hit = lookupCache(ws, ident.cacheKey, (h) => usableArtifact(ws, h, opts.baseDir, warn));
      if (!hit) return null;
      recorder.cached(facts, hit.executionId, hit.outputs);
      const outcome: NodeOutcome = { ...base(inst, def), state: 'cached', executionId: facts.executionId, durationMs: 0, outputs: hit.outputs.map((o) => outputInfo(ws, o)) };
      emit({ type: 'node.cached', runId, nodeId: id, outcome });
      return outcome;
    };
    if (!plan.forced.has(id) && !(files instanceof NodeError)) {
      const cached = fromCache();
      if (cached) return cached;
    }

    // SECURITY (concurrency): one execution per cache key across processes; a run that waited for
    // another's execution reuses its result (engine/security/lease.ts).
    const leased = !(files instanceof NodeError);
    let leaseHeld = leased;
    if (leased) {
      let waited: boolean;
      try {
        waited = await leases.acquire(ident.cacheKey, facts.executionId, signal);
      } catch (err) {
        if (err instanceof CancelledError) return skip(inst, def, 'run cancelled before this node started', 'cancelled');
        throw err;
      }
      const cached = waited && !plan.forced.has(id) ? fromCache() : null;
      if (cached) {
        leases.release(ident.cacheKey, facts.executionId);
        leaseHeld = false;
        return cached;
      }
    }

    try {
      await slots.acquire();
      try {
        // A failure elsewhere (or a cancel) may have happened while this node waited for a slot.
        const late = notStarting();
        if (late) return skip(inst, def, late.reason, late.state);
        // The lease goes in the same commit as the result (a waiter then finds it cached); the finally below covers failures.
        const outcome = await execute(inst, def, facts, gathered, files, leased ? () => leases.release(ident.cacheKey, facts.executionId) : undefined);
        // An executed node's result was committed together with its lease's release.
        if (outcome.state === 'executed') leaseHeld = false;
        return outcome;
      } finally {
        slots.release();
      }
    } finally {
      // Once the result's commit released the lease, a second DELETE would only cost a transaction per node.
      if (leaseHeld) leases.release(ident.cacheKey, facts.executionId);
    }
  };

  const execute = async (inst: Instance, def: NodeType, facts: ExecutionFacts, gathered: GatheredInputs, files: unknown, releaseLease?: () => void): Promise<NodeOutcome> => {
    const { executionId, nodeId: id } = facts;
    const node = plan.node(inst);
    const t0 = performance.now();
    // Only work done in this process shows in its memory; a queue's workers are elsewhere.
    const stopRss = executor instanceof LocalExecutor ? watchPeakRss() : () => undefined;
    const logs: string[] = [];
    recorder.executionStarted(facts);
    emit({ type: 'node.started', runId, nodeId: id, executionId });
    const published: ArtifactManifest[] = [];
    // Where this execution writes, for naming it if the disk fills and the error carries no path.
    let writingTo = ws.store.stagingDir;
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
        inputs: Object.fromEntries(Object.entries(gathered.single).map(([p, o]) => [p, ws.store.ref(o.hash) satisfies ArtifactRef])),
        multiInputs: Object.fromEntries(
          Object.entries(gathered.multi).map(([p, items]) => [p, items.map((i) => ({ ref: ws.store.ref(i.out.hash), variant: i.src.variant, fromNode: i.src.fromNode }))]),
        ),
        variant: inst.variant,
        outputs: Object.fromEntries(Object.entries(def.outputs).map(([p, spec]) => [p, { kind: spec.kind, dir: ws.store.createStaging(executionId, p) }])),
        // scale hook: shard-level resume cache for shard-parallel nodes (not when forced: --force recomputes every shard).
        access: { roots: rootList(roots), declared: declaredFor(inst, def, files) },
        shardCache: plan.forced.has(id)
          ? undefined
          : shardCacheSlot(ws.store.forgeDir, {
              nodeType: def.type,
              nodeVersion: def.version,
              codeHash: facts.codeHash,
              params: inst.params,
              files: facts.files,
              seed: graph.doc.seed,
              otherInputs: otherInputHashes(def, gathered),
            }),
      };
      writingTo = Object.values(unit.outputs)[0]?.dir ?? writingTo;
      const deferred = plan.deferred.has(id);
      if (deferred) logs.push('[info] not written: its consumer computes these rows in its own pass (a deferred dataset)');
      const result = deferred
        ? writeRecipes(def, unit, facts)
        : await executor.run(
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
        const staged = unit.outputs[port]?.dir as string;
        const manifest = await withDiskFull(inst.baseId, staged, () => ws.store.publish(staged, desc));
        published.push(manifest);
        outputs.push(outputOf(port, manifest));
      }
      const durationMs = performance.now() - t0;
      const peakRssBytes = stopRss();
      recorder.executionSucceeded(executionId, { durationMs, logs, device: result.device, published, outputs: outputs.map(({ port, hash }) => ({ port, hash })) }, releaseLease);
      const outcome: NodeOutcome = { ...base(inst, def), state: 'executed', executionId, durationMs, ...(peakRssBytes ? { peakRssBytes } : {}), outputs, device: result.device };
      emit({ type: 'node.finished', runId, nodeId: id, outcome });
      return outcome;
    } catch (thrown) {
      const err = explainOutOfMemory(explainDiskFull(thrown, inst.baseId, writingTo), inst.baseId, def.type);
      const durationMs = performance.now() - t0;
      const peakRssBytes = stopRss();
      const cancelled = err instanceof CancelledError || signal.aborted;
      const location: ErrorLocation = { ...(err instanceof NodeError ? err.location : {}), nodeId: inst.baseId };
      const message = cancelled ? 'cancelled' : err instanceof NodeError || err instanceof ExecutorError ? err.message : `internal error in ${def.type}: ${(err as Error).message}`;
      recorder.executionEnded(executionId, { status: cancelled ? 'cancelled' : 'failed', durationMs, error: message, location: cancelled ? null : location, logs, published });
      if (!cancelled) noteFailure(id);
      const outcome: NodeOutcome = {
        ...base(inst, def),
        state: cancelled ? 'cancelled' : 'failed',
        executionId,
        durationMs,
        ...(peakRssBytes ? { peakRssBytes } : {}),
        outputs: [],
        error: message,
        location,
      };
      emit({ type: cancelled ? 'node.skipped' : 'node.failed', runId, nodeId: id, outcome });
      return outcome;
    } finally {
      // The only place staging is discarded: after publish it is empty, after a failure it is junk.
      ws.store.discardStaging(executionId);
    }
  };

  // A consumer reads the files of the deferred chain it computes: the paths its nodes declared go with it.
  const declaredOf = new Map<string, string[]>();
  const declaredFor = (inst: Instance, def: NodeType, files: unknown): string[] => {
    const own = declaredPaths(def, registry, inst.params, opts.baseDir, Array.isArray(files) ? (files as InputFile[]).map((f) => f.abs) : []);
    const all = [...own, ...inst.parents.flatMap((p) => declaredOf.get(p) ?? [])];
    if (plan.deferred.has(inst.id)) declaredOf.set(inst.id, all);
    return all;
  };

  const noteFailure = (id: string) => {
    if (!opts.continueOnFailure) stoppedBy ??= id;
  };

  const skip = (inst: Instance, def: NodeType, reason: string, state: 'skipped' | 'cancelled'): NodeOutcome => {
    const id = identity(inst, def);
    recorder.skipped(id, reason);
    const outcome: NodeOutcome = { ...base(inst, def), state, executionId: id.executionId, durationMs: 0, outputs: [], error: reason };
    emit({ type: 'node.skipped', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  const bypass = (inst: Instance, def: NodeType, inputs: Record<string, OutputInfo>): NodeOutcome => {
    const outputs = passThrough(def, inputs);
    if (typeof outputs === 'string') return refuse(inst, def, outputs);
    const outcome: NodeOutcome = { ...base(inst, def), state: 'bypassed', executionId: null, durationMs: 0, outputs };
    emit({ type: 'node.cached', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  const pinned = (inst: Instance, def: NodeType, pins: Record<string, string>, inputs: Record<string, OutputInfo>): NodeOutcome => {
    const outputs = pinnedOutputs(ws, def, pins);
    if (typeof outputs === 'string') return refuse(inst, def, outputs);
    const facts: ExecutionFacts = {
      ...identity(inst, def),
      codeHash: registry.codeHash(def.type),
      params: inst.params,
      cacheKey: 'pinned',
      inputs: Object.entries(inputs).map(([port, o]) => ({ port, hash: o.hash })),
      files: [],
    };
    recorder.cached(facts, ws.queries.artifact(outputs[0]?.hash ?? '')?.producerExecutionId ?? null, outputs);
    const outcome: NodeOutcome = { ...base(inst, def), state: 'pinned', executionId: facts.executionId, durationMs: 0, outputs: outputs.map((o) => outputInfo(ws, o)) };
    emit({ type: 'node.cached', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  /** Refused before running (bypass or pins that cannot be honoured): recorded as a failure. */
  const refuse = (inst: Instance, def: NodeType, message: string): NodeOutcome => {
    const id = identity(inst, def);
    const location: ErrorLocation = { nodeId: inst.baseId };
    recorder.refused(id, message, location);
    noteFailure(inst.id);
    const outcome: NodeOutcome = { ...base(inst, def), state: 'failed', executionId: id.executionId, durationMs: 0, outputs: [], error: message, location };
    emit({ type: 'node.failed', runId, nodeId: inst.id, outcome });
    return outcome;
  };

  let summary: RunSummary;
  try {
    for (const id of order) outcomes.set(id, visit(id));
    const results = await Promise.all(order.map((id) => outcomes.get(id) as Promise<NodeOutcome>));
    const status = signal.aborted ? 'cancelled' : results.some((r) => r.state === 'failed') ? 'failed' : 'succeeded';
    const firstError = results.find((r) => r.state === 'failed');
    recorder.finished(status, firstError ? `${formatLocation(firstError.location ?? {})}: ${firstError.error}` : null);
    summary = {
      runId,
      status,
      mode,
      durationMs: performance.now() - started,
      nodes: results,
      failed: results.filter((r) => r.state === 'failed').map((r) => r.nodeId),
      skipped: results.filter((r) => r.state === 'skipped' || r.state === 'cancelled').map((r) => ({ nodeId: r.nodeId, reason: r.error ?? r.state })),
    };
  } catch (err) {
    recorder.finished('failed', `engine error: ${(err as Error).message}`);
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

/** What a shard's result depends on among the inputs besides its own input shard (every input of a node that is not shard-mapped). */
function otherInputHashes(def: NodeType, gathered: GatheredInputs): Record<string, unknown> {
  const other: Record<string, unknown> = {};
  for (const [port, out] of Object.entries(gathered.single)) if (port !== def.shardable?.input) other[port] = out.hash;
  for (const [port, items] of Object.entries(gathered.multi)) other[port] = items.map((i) => i.out.hash);
  return other;
}
