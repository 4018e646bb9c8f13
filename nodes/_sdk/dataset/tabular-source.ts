// The factory of the tabular file sources (source.jsonl, source.csv, source.parquet): the params that
// map a file's columns onto the dataset contract, the node's shape (no inputs, one dataset, the file
// as its input file) and the run around `loadTable` (file checks, source name, progress). Each
// source adds only its params and how DuckDB reads its format and where its lines are.
import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { DeferredSource, SourceEnv } from '../../../engine/sdk/deferred.js';
import { loadTable, openLoadParts, type LoadSpec } from '../../../engine/sdk/loader.js';
import { NodeError } from '../../../engine/sdk/node-error.js';
import { defineNode, type NodeType, type RunContext } from '../../../engine/sdk/types.js';

/** The params every tabular source has. */
export interface TabularParams {
  path: string;
  textField: string;
  idField?: string;
  source?: string;
}

/**
 * `textField`, `idField` and `source`, titled in the format's own word (JSON has fields, CSV and
 * Parquet columns). Spread into a source's `z.object` where they belong in its form.
 */
export function recordColumnParams(noun: 'field' | 'column') {
  return {
    textField: z
      .string()
      .min(1)
      .default('text')
      .meta({ title: `Text ${noun}` }),
    idField: z
      .string()
      .optional()
      .meta({ title: `Id ${noun}`, description: 'Leave empty to number records as <source>:<n>' }),
    source: z.string().optional().meta({ title: 'Source name', description: 'Every record gets this source; empty: the file name without its extension' }),
  };
}

/** How one format is read: the DuckDB relation over the file, and (formats with lines) where problems are. */
export type TabularRead = Pick<LoadSpec, 'relation' | 'diagnose' | 'locateDuplicate' | 'keepSourceColumn' | 'readLines'>;

/**
 * Loads `params.path` into the `out` port. `lines` says whether the format has lines, so an empty
 * file is reported at line 1 (a Parquet file has none).
 */
export async function loadTabularSource<P extends TabularParams>(ctx: RunContext<P>, format: TabularFormat): Promise<void> {
  const { path } = ctx.params;
  const conn = await ctx.duckdb();
  ctx.progress(0, undefined, 'reading');
  const rows = await loadTable(conn, loadSpec(ctx, format), ctx.output('out'));
  ctx.progress(rows, rows, `${rows} records`);
  ctx.log(`loaded ${rows} records from ${path}`);
}

interface TabularFormat {
  lines: boolean;
  read: (abs: string) => TabularRead;
}

/** The loader's spec for `params.path`, after the checks every source makes on the file itself. */
function loadSpec<P extends TabularParams>(env: Pick<RunContext<P>, 'params' | 'resolvePath' | 'signal'>, format: TabularFormat): LoadSpec {
  const { path, textField, idField } = env.params;
  const abs = env.resolvePath(path);
  if (!existsSync(abs)) throw new NodeError('file not found', { file: path });
  if (statSync(abs).size === 0) throw new NodeError('file is empty', { file: path, line: format.lines ? 1 : undefined });
  const source = env.params.source ?? basename(path, extname(path));
  return { ...format.read(abs), file: path, textField, idField, source, signal: env.signal };
}

/** The source's rows as parts of a consumer's pass, instead of a written dataset (engine/sdk/deferred.ts). */
async function openTabularParts<P extends TabularParams>(env: SourceEnv<P>, format: TabularFormat): Promise<DeferredSource> {
  const spec = loadSpec(env, format);
  return openLoadParts(await env.duckdb(), spec, env.scratch, env.mode);
}

/** What differs between tabular sources; everything else `defineTabularSource` fills in. */
export interface TabularSourceSpec<S extends z.ZodType<TabularParams & Record<string, unknown>>> {
  type: string;
  version: number;
  title: string;
  description: string;
  params: S;
  /** Whether the format has lines, so errors can name one (JSON Lines, CSV; not Parquet). */
  lines: boolean;
  /** How DuckDB reads the file at `abs` with these params. */
  read(abs: string, params: z.output<S>): TabularRead;
  /** `import.meta.url` of the source's own module, for its code hash. */
  module: string;
  /** Its records can be read by a consumer's pass instead of written (formats read line by line). */
  deferrable?: boolean;
}

export function defineTabularSource<S extends z.ZodType<TabularParams & Record<string, unknown>>>(spec: TabularSourceSpec<S>): NodeType {
  return defineNode({
    type: spec.type,
    version: spec.version,
    category: 'Sources',
    title: spec.title,
    description: spec.description,
    inputs: {},
    outputs: { out: { kind: 'dataset', title: 'records' } },
    params: spec.params,
    deterministic: true,
    inputFiles: (p) => [p.path],
    run: (ctx) => loadTabularSource(ctx, { lines: spec.lines, read: (abs) => spec.read(abs, ctx.params) }),
    deferrable: spec.deferrable ? { source: (env) => openTabularParts(env, { lines: spec.lines, read: (abs) => spec.read(abs, env.params) }) } : undefined,
    module: spec.module,
  });
}
