// Deferred datasets: a row-wise node whose only consumers compute its rows in their own pass does
// not write them. It publishes a recipe instead (its type, code hash, params, seed, input files and
// input artifacts), and the consumer runs the whole chain (source → filters → its own write) as one
// DuckDB pass per part, in parallel. One pass instead of a zstd Parquet write, read and hash per
// node is what makes load → filter → write run near DuckDB's own speed (bench/stream-memory).
import type { DuckDBConnection } from '@duckdb/node-api';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeferredManifest } from './dataset.js';
import { inputShards, shardSql } from './shards.js';
import { CancelledError, NodeError, throwIfAborted } from './node-error.js';
import { openConfinedDuckDb } from '../security/confined-sql.js';
import { STREAMING_BULK_FLUSH_THRESHOLD } from '../store/duckdb.js';
import type { ArtifactManifest, ArtifactRef, NodeType, RunContext } from './types.js';
import type { JsonValue } from '../util/hash.js';

/** The one file of a deferred dataset artifact. */
export const DEFERRED_FILE = 'deferred.json';
export const DEFERRED_FORMAT = 'forge-deferred-v1';

/** What a deferred dataset is made of; its artifact hash is the hash of this, so it names the rows exactly. */
export interface DeferredRecipe {
  format: typeof DEFERRED_FORMAT;
  nodeType: string;
  nodeVersion: number;
  codeHash: string;
  /** The output port of the producing node these rows are. */
  port: string;
  params: Record<string, JsonValue>;
  seed: number;
  /** Input files as the graph names them, with the content hash they had when the recipe was made. */
  files: { path: string; hash: string }[];
  /** Input port → artifact hash (itself deferred or written). */
  inputs: Record<string, string>;
}

export function isDeferred(ref: Pick<ArtifactRef, 'manifest'>): boolean {
  return isDeferredManifest(ref.manifest);
}

export function readRecipe(ref: ArtifactRef): DeferredRecipe {
  const recipe = JSON.parse(readFileSync(join(ref.dir, DEFERRED_FILE), 'utf8')) as DeferredRecipe;
  if (recipe.format !== DEFERRED_FORMAT) throw new Error(`deferred dataset ${ref.hash}: unknown recipe format ${String(recipe.format)}`);
  return recipe;
}

const HASH = /^sha256:([0-9a-f]{64})$/;

/** The stored artifact `hash` in the same store as `ref` (`<artifacts>/<aa>/<hex>`). */
export function artifactBeside(ref: ArtifactRef, hash: string): ArtifactRef {
  const hex = HASH.exec(hash)?.[1];
  // A recipe names artifacts by hash only; anything else must never become a path.
  if (!hex) throw new Error(`deferred dataset ${ref.hash}: not an artifact hash: ${JSON.stringify(hash.slice(0, 80))}`);
  const dir = join(dirname(dirname(ref.dir)), hex.slice(0, 2), hex);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ArtifactManifest;
  return { hash, kind: manifest.kind, dir, manifest };
}

/** One part of a deferred source's rows, prepared on a lane's connection. */
export interface DeferredPart {
  /** A relation (table name or parenthesised query) over this part's rows, in order. */
  relation: string;
  release(): Promise<void>;
  /** What an error of the consumer's query over this part means, when it comes from the source (a check that runs inside the query). */
  explain?(err: unknown): Promise<Error | null>;
  /** Checks after the consumer's query over this part succeeded (e.g. that the whole part was read). */
  verify?(): Promise<void>;
}

/** A source's rows as consecutive parts that lanes prepare and consume in any order. */
export interface DeferredSource {
  parts: number;
  /** Folders the lanes' DuckDB reads (beyond the scan folder). */
  read: string[];
  /** Single files it reads, without their folder. */
  readFiles?: string[];
  /** One part over the whole input that DuckDB reads on all threads (in order): one lane, every core. */
  whole?: boolean;
  prepare(index: number, conn: DuckDBConnection): Promise<DeferredPart>;
  /** Checks over every part (e.g. duplicate ids), after all were consumed. */
  finish(conn: DuckDBConnection): Promise<void>;
}

/** Thrown by a source's fast mode when the input does not fit it: the scan restarts in `general` mode. */
export class RestartScan extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RestartScan';
  }
}

export interface SourceEnv<P> {
  params: P;
  signal: AbortSignal;
  resolvePath(path: string): string;
  /** A multi-threaded connection for whole-input work (describing the file, a general-mode first pass). */
  duckdb(): Promise<DuckDBConnection>;
  /** A folder of the scan's own for slices and scratch files; lanes may read it. */
  scratch: string;
  /** `fast`: parts straight from the input; `general`: whatever works for every input. */
  mode: 'fast' | 'general';
}

/** How a node's output can be computed inside a consumer's pass instead of written. */
export type DeferrableSpec<P> =
  | { source(env: SourceEnv<P>): Promise<DeferredSource> }
  | {
      /** The dataset input the output's rows come from, row by row. */
      input: string;
      /** The output `port`'s rows as a SQL query over `input` (a relation). */
      relation(params: P, input: string, port: string): string;
      /** Checks the params against the input once per lane before rows flow (user SQL is checked here). */
      validate?(params: P, conn: DuckDBConnection, input: string): Promise<void>;
    };

/** One part of the scan as the consumer sees it. */
export interface ScanPart {
  index: number;
  /** How many parts the scan has (1: the whole input in one query). */
  parts: number;
  /** The part's rows after every stage of the chain. */
  relation: string;
  /** A lane connection, confined to the scan folder and the inputs; write only under the scan folder. */
  conn: DuckDBConnection;
  /** The pass it belongs to: a fast pass that restarts on the general path starts its parts again from 0. */
  mode: 'fast' | 'general';
}

export interface ScanResult {
  parts: number;
  rows: number;
  /** The node types of the chain, source first. */
  stages: string[];
}

interface Stage {
  recipe: DeferredRecipe;
  def: NodeType;
}

/**
 * Computes a deferred dataset part by part: each lane prepares a part of the chain's source, runs
 * the chain's stages over it as one query and hands it to `consume` (which writes it under `dir`
 * and returns its row count). Lanes run in parallel on one single-threaded DuckDB, or a source that
 * reads its whole input in order as one part gets one lane on every thread. That DuckDB reaches
 * only the scan folder and the chain's inputs, since the stages' params may hold user SQL. An
 * error of a stage names it.
 */
export async function scanDeferred(ctx: RunContext<unknown>, ref: ArtifactRef, dir: string, consume: (part: ScanPart) => Promise<number>): Promise<ScanResult> {
  const { chain, root } = await resolveChain(ctx, ref);
  const stages = [...(root ? ['a written dataset'] : []), ...chain.map((s) => s.recipe.nodeType)];
  try {
    try {
      return { ...(await scan(ctx, chain, root, dir, 'fast', consume)), stages };
    } catch (err) {
      if (!(err instanceof RestartScan)) throw err;
      ctx.log(`deferred input: ${err.message}; computing it on the general path`);
      // Nothing of the fast pass is kept: the general pass makes its own parts.
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
      return { ...(await scan(ctx, chain, root, dir, 'general', consume)), stages };
    }
  } catch (err) {
    // A query error no stage explained (e.g. a filter expression failing on the data) names the chain it came from.
    if (err instanceof NodeError || err instanceof CancelledError || ctx.signal.aborted) throw err;
    const first = ((err as Error).message ?? String(err)).split('\n')[0]?.trim();
    throw new NodeError(`${stages.join(' → ')} (computed in this node's pass, not written) failed: ${first}`, { field: 'inputs.in' });
  }
}

/** The chain of deferred stages ending at `ref`, source first, and the written dataset it starts from (null when it starts at a source). */
async function resolveChain(ctx: RunContext<unknown>, ref: ArtifactRef): Promise<{ chain: Stage[]; root: ArtifactRef | null }> {
  const chain: Stage[] = [];
  let cur = ref;
  for (;;) {
    if (!isDeferred(cur)) return { chain, root: cur };
    const recipe = readRecipe(cur);
    const def = await ctx.deferredStage?.(recipe.nodeType);
    if (!def?.deferrable) throw new Error(`deferred dataset ${cur.hash}: node type ${recipe.nodeType} cannot compute it here`);
    if (def.version !== recipe.nodeVersion) throw new NodeError(`${recipe.nodeType} changed version since its deferred output was made (${recipe.nodeVersion} → ${def.version}); run the graph again`);
    chain.unshift({ recipe, def });
    const spec = def.deferrable;
    if ('source' in spec) return { chain, root: null };
    const upstream = recipe.inputs[spec.input];
    if (!upstream) throw new Error(`deferred dataset ${cur.hash}: no input "${spec.input}"`);
    cur = artifactBeside(cur, upstream);
  }
}

async function scan(
  ctx: RunContext<unknown>,
  chain: Stage[],
  root: ArtifactRef | null,
  dir: string,
  mode: 'fast' | 'general',
  consume: (part: ScanPart) => Promise<number>,
): Promise<Omit<ScanResult, 'stages'>> {
  const first = chain[0];
  const source = root ? datasetParts(root) : await openSource(ctx, first as Stage, dir, mode);
  // Params are parsed once per scan, not per part.
  const transforms = (root ? chain : chain.slice(1)).map((t) => ({
    stage: t,
    spec: t.def.deferrable as Extract<DeferrableSpec<unknown>, { input: string }>,
    params: t.def.params.parse(t.recipe.params),
  }));
  const db = await openConfinedDuckDb({
    read: source.read,
    readFiles: source.readFiles,
    write: [dir],
    signal: ctx.signal,
    threads: source.whole ? availableParallelism() : 1,
    bulkFlushThreshold: STREAMING_BULK_FLUSH_THRESHOLD,
  });
  const conns: DuckDBConnection[] = [];
  // The confined instance interrupts only its own connection on cancel; the lanes' queries are these.
  const interrupt = () => {
    for (const c of conns) c.interrupt();
  };
  ctx.signal.addEventListener('abort', interrupt, { once: true });
  let next = 0;
  let done = 0;
  let rows = 0;
  const t0 = performance.now();
  const lane = async (conn: DuckDBConnection) => {
    let validated = false;
    while (next < source.parts) {
      throwIfAborted(ctx.signal);
      const index = next++;
      const part = await blame(first, () => source.prepare(index, conn));
      try {
        let relation = part.relation;
        for (const { stage, spec, params } of transforms) {
          const { validate } = spec;
          if (!validated && validate) await blame(stage, () => validate(params, conn, relation));
          relation = `(${spec.relation(params, relation, stage.recipe.port)})`;
        }
        validated = true;
        // Not `rows += await …`: that reads `rows` before the await, and lanes would lose each other's counts.
        let written: number;
        // One part is one long query: its progress is DuckDB's, not parts done.
        const stopWatching = source.whole ? watchQuery(ctx, conn) : () => undefined;
        try {
          written = await consume({ index, parts: source.parts, relation, conn, mode });
        } catch (err) {
          throwIfAborted(ctx.signal);
          const why = await part.explain?.(err);
          throw why ? blamed(first, why) : err;
        } finally {
          stopWatching();
        }
        const { verify } = part;
        if (verify) await blame(first, verify);
        rows += written;
      } finally {
        await part.release();
      }
      done++;
      const rate = rows / Math.max(1e-3, (performance.now() - t0) / 1000);
      ctx.progress(done, source.parts, `${done}/${source.parts} parts · ${Math.round(rate).toLocaleString('en-US')} rows/s out`);
    }
  };
  try {
    const lanes = source.whole ? 1 : Math.min(availableParallelism(), source.parts);
    for (let i = 0; i < lanes; i++) conns.push(await db.instance.connect());
    if (source.whole) {
      // DuckDB tracks a query's progress only with its progress bar on (a per-connection setting); it prints nothing here.
      for (const c of conns) {
        await c.run('SET enable_progress_bar = true');
        await c.run('SET enable_progress_bar_print = false');
      }
    }
    const results = await Promise.allSettled(
      conns.map((c) =>
        lane(c).catch((err: unknown) => {
          // Stop handing out parts; the other lanes finish the part they hold.
          next = source.parts;
          throw err;
        }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await blame(first, () => source.finish(db.conn));
    return { parts: source.parts, rows };
  } catch (err) {
    if (ctx.signal.aborted) throw new CancelledError();
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', interrupt);
    for (const c of conns) c.closeSync();
    db.close();
  }
}

async function openSource(ctx: RunContext<unknown>, stage: Stage, dir: string, mode: 'fast' | 'general'): Promise<DeferredSource> {
  const spec = stage.def.deferrable as Extract<DeferrableSpec<unknown>, { source: unknown }>;
  const env: SourceEnv<unknown> = {
    params: stage.def.params.parse(stage.recipe.params),
    signal: ctx.signal,
    resolvePath: (p) => ctx.resolvePath(p),
    duckdb: () => ctx.duckdb(),
    scratch: dir,
    mode,
  };
  return blame(stage, () => spec.source(env));
}

/** A written dataset as parts: one per shard. */
function datasetParts(ref: ArtifactRef): DeferredSource {
  const shards = inputShards(ref);
  return {
    parts: shards.length,
    read: [ref.dir],
    prepare: (index) => Promise.resolve({ relation: shardSql(shards[index] as (typeof shards)[number]), release: () => Promise.resolve() }),
    finish: () => Promise.resolve(),
  };
}

/** Reports a running query's progress (input rows read of DuckDB's estimate) every half second; returns the stop. */
function watchQuery(ctx: RunContext<unknown>, conn: DuckDBConnection): () => void {
  const t0 = performance.now();
  const timer = setInterval(() => {
    const { percentage, rows_processed: read, total_rows_to_process: total } = conn.progress;
    if (percentage < 0 || total <= 0n) return;
    const rate = Number(read) / Math.max(1e-3, (performance.now() - t0) / 1000);
    ctx.progress(Number(read), Number(total), `${Math.round(percentage)} % read · ${Math.round(rate).toLocaleString('en-US')} rows/s in`);
  }, 500);
  return () => clearInterval(timer);
}

/** A node error raised inside a stage names that stage: the consumer's node is where it shows. */
async function blame<T>(stage: Stage | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw blamed(stage, err);
  }
}

function blamed(stage: Stage | undefined, err: unknown): unknown {
  if (stage && err instanceof NodeError) return new NodeError(`${stage.recipe.nodeType} (computed in this node's pass, not written): ${err.message}`, err.location);
  return err;
}
