import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CancelledError, NodeError } from '../sdk/node-error.js';
import type { ArtifactRef, ColumnInfo, NodeType, OutputBuilder, OutputDescriptor, RunContext } from '../sdk/types.js';
import { checkRuntimePath, paramsHolding } from '../security/runtime-paths.js';
import { duckdbInstance } from '../store/duckdb.js';
import type { JsonValue } from '../util/hash.js';
import type { UnitHooks, UnitResult, WorkUnit } from './work-unit.js';
import { registryOf } from './registry-of.js';

/** Runs one node on one unit of work, in whatever thread calls it. */
export async function executeUnit(
  def: NodeType,
  unit: WorkUnit,
  hooks: UnitHooks,
  signal: AbortSignal,
  /** The node types a deferred input's recipes name; default: the registry the unit names by module (a queue worker passes its own). */
  stageType?: (type: string) => NodeType | undefined,
): Promise<UnitResult> {
  const descriptors = new Map<string, OutputDescriptor>();
  const connections: DuckDBConnection[] = [];
  let device: string | null = null;

  const interrupt = () => {
    for (const c of connections) c.interrupt();
  };
  signal.addEventListener('abort', interrupt, { once: true });

  const ctx: RunContext<Record<string, unknown>> = {
    node: { id: unit.nodeId, type: unit.nodeType, label: unit.label },
    params: unit.params,
    seed: unit.seed,
    signal,
    baseDir: unit.baseDir,
    input(port: string): ArtifactRef {
      const ref = unit.inputs[port];
      if (!ref) throw new NodeError(`input "${port}" is not connected`, { field: `inputs.${port}` });
      return ref;
    },
    optionalInput(port: string) {
      return unit.inputs[port];
    },
    inputs(port: string) {
      return unit.multiInputs[port] ?? [];
    },
    variant: unit.variant,
    output(port: string): OutputBuilder {
      const slot = unit.outputs[port];
      if (!slot) throw new Error(`${unit.nodeType} has no output "${port}"`);
      let d = descriptors.get(port);
      if (!d) {
        d = { kind: slot.kind, meta: {} };
        descriptors.set(port, d);
      }
      const desc = d;
      return {
        port,
        kind: slot.kind,
        dir: slot.dir,
        file(relativePath: string) {
          const abs = join(slot.dir, relativePath);
          // The staging folder itself exists; only subfolders need creating.
          if (dirname(abs) !== slot.dir) mkdirSync(dirname(abs), { recursive: true });
          return abs;
        },
        setRows(rows: number) {
          desc.rows = rows;
        },
        setSchema(schema: ColumnInfo[]) {
          desc.schema = schema;
        },
        setMeta(key: string, value: JsonValue) {
          desc.meta[key] = value;
        },
      };
    },
    progress: throttle(hooks.progress, 100),
    log(message, level = 'info') {
      hooks.log(level, message);
    },
    async duckdb() {
      const instance = await duckdbInstance({ tempDirectory: join(unit.tmpDir, 'duckdb') });
      const conn = await instance.connect();
      connections.push(conn);
      return conn;
    },
    resolvePath(path: string) {
      // SECURITY: the run-time half of the file-access policy; the trust gate only saw declared paths.
      if (unit.access) return checkRuntimePath(path, unit.baseDir, unit.access, unit.nodeId, paramsHolding(unit.params, path));
      return isAbsolute(path) ? path : resolve(unit.baseDir, path);
    },
    setDevice(name: string) {
      device = name;
    },
    shardCache: unit.shardCache,
    shardSubset: unit.shardSubset,
    deferredStage: async (type) => (stageType ? stageType(type) : (await registryOf(unit.registryModule)).get(type)),
  };

  try {
    await def.run(ctx);
    if (signal.aborted) throw new CancelledError();
    const missing = Object.keys(unit.outputs).filter((p) => !descriptors.has(p));
    if (missing.length > 0) throw new Error(`${unit.nodeType} finished without writing output(s) ${missing.join(', ')}`);
    return { outputs: Object.fromEntries(descriptors), device };
  } catch (err) {
    if (signal.aborted) throw new CancelledError();
    throw err;
  } finally {
    signal.removeEventListener('abort', interrupt);
    for (const c of connections) c.closeSync();
  }
}

/** Progress can fire per row; forward at most one update per interval, and always the final one. */
function throttle(fn: UnitHooks['progress'], ms: number): RunContext<unknown>['progress'] {
  let last = 0;
  return (done, total, message) => {
    const now = Date.now();
    if (now - last >= ms || (total !== undefined && done >= total)) {
      last = now;
      fn(done, total, message);
    }
  };
}
