import type { ErrorLocation } from '../../graph/errors.js';
import type { UnitResult, WorkUnit } from '../work-unit.js';

/** The BullMQ queue every coordinator and worker of one Redis shares. */
export const QUEUE_NAME = 'forge-units';
/** Redis key prefix of worker heartbeats (what each connected worker runs). */
export const WORKER_KEY_PREFIX = 'forge:worker:';

/**
 * One job: the work unit (hashes, params, store paths; never artifact bytes) plus what the worker
 * needs to check it may run it. Paths under `storeRoot` are rewritten to the worker's own mount.
 */
export interface UnitJobData {
  unit: WorkUnit;
  /** The coordinator's `.forge` folder; the worker maps it onto its `--store`. */
  storeRoot: string;
  /** The coordinator's code hash of the unit's node type: a worker with other code refuses the job. */
  codeHash: string;
}

/** A failure as plain data, so a NodeError's location survives the trip through Redis. */
export interface UnitJobError {
  name: string;
  message: string;
  location?: ErrorLocation;
}

/** The unit's result and the worker that produced it (provenance logs name it for shard jobs). */
export type UnitJobResult = UnitResult & { worker?: { id: string; host: string; pid: number } };

/** What a worker publishes about itself every few seconds (GET /api/workers reads it). */
export interface WorkerHeartbeat {
  id: string;
  host: string;
  pid: number;
  store: string;
  startedAt: string;
  /** `shards`: the input shards of a shard job (`0-3`), absent for a whole unit. */
  running: { jobId: string; nodeId: string; nodeType: string; since: string; shards?: string }[];
}

/** Rewrites every store path of a unit from one mount point of the shared store to another. */
export function remapUnit(unit: WorkUnit, from: string, to: string): WorkUnit {
  if (from === to) return unit;
  const map = (p: string) => (p === from || p.startsWith(`${from}/`) ? to + p.slice(from.length) : p);
  return {
    ...unit,
    tmpDir: map(unit.tmpDir),
    inputs: Object.fromEntries(Object.entries(unit.inputs).map(([k, r]) => [k, { ...r, dir: map(r.dir) }])),
    multiInputs: Object.fromEntries(Object.entries(unit.multiInputs).map(([k, items]) => [k, items.map((i) => ({ ...i, ref: { ...i.ref, dir: map(i.ref.dir) } }))])),
    outputs: Object.fromEntries(Object.entries(unit.outputs).map(([k, o]) => [k, { ...o, dir: map(o.dir) }])),
    shardCache: unit.shardCache ? { ...unit.shardCache, dir: map(unit.shardCache.dir) } : undefined,
    access: unit.access ? { roots: unit.access.roots.map(map), declared: unit.access.declared.map(map) } : undefined,
  };
}
