import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString, sqlStringList } from './sql.js';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeShards, PARQUET_OPTIONS, SCRATCH_OPTIONS, SHARD_DIR, shardFile, shardRows, writeShardsFromParquet } from './dataset.js';
import type { FieldRequirement, LineProblem } from './jsonl-diagnose.js';
import { copyByteRange, lineSlices, type LineSlice } from './line-slices.js';
import { RestartScan, type DeferredPart, type DeferredSource } from './deferred.js';
import { CancelledError, NodeError, throwIfAborted } from './node-error.js';
import { writeShardFiles, type ShardJob } from './shard-writer.js';
import type { OutputBuilder } from './types.js';

export interface LoadSpec {
  /** A DuckDB table expression, e.g. `read_json('…')`. */
  relation: string;
  /** The file as the user wrote it, for error messages. */
  file: string;
  textField: string;
  idField?: string;
  source: string;
  /** Keep a `source` column of the input (its NULLs become `source`); otherwise `source` replaces it. */
  keepSourceColumn?: boolean;
  /**
   * Finds the exact line behind a DuckDB error, a wrong type or a missing value (formats with lines:
   * JSON Lines, CSV). Without `required` it looks for structural problems only.
   */
  diagnose?: (required?: FieldRequirement) => Promise<LineProblem | null>;
  /** Finds the lines where a duplicated id occurs first and again. */
  locateDuplicate?: (id: string) => Promise<{ line: number; firstLine: number } | null>;
  /**
   * Formats with one record per line (JSON Lines): the input file, and the relation that reads a file
   * holding some of its lines with the columns described from the whole file (a DuckDB struct of
   * name: type). With it the loader parses slices of lines straight into shards; see loadLineSlices.
   */
  readLines?: { path: string; relation: (file: string, columns: string) => string };
  signal: AbortSignal;
}

/**
 * Maps any tabular input onto the dataset contract (`id`, `text`, `source`, then the remaining
 * columns), failing with the file and the line or field when the input does not fit it.
 */
export async function loadTable(conn: DuckDBConnection, spec: LoadSpec, out: OutputBuilder): Promise<number> {
  const load = await prepareLoad(conn, spec);
  const { located } = load;

  if (load.sliceable) {
    const rows = await loadLineSlices(conn, spec, spec.readLines as NonNullable<LoadSpec['readLines']>, load.columns, load.select, out, located);
    if (rows !== null) return rows;
  }

  const firstPass = `${out.dir}.load.parquet`;
  try {
    await writeFirstPass(conn, spec, load, firstPass);
    // Rewritten rather than adopted: the parallel first pass may cut row groups differently on
    // every run, and a dataset's bytes must depend only on its rows (see writeShardsFromParquet).
    return (await writeShardsFromParquet(conn, firstPass, out, firstPassSelect(spec))).rows;
  } catch (err) {
    throw await loadError(err, spec, located);
  } finally {
    rmSync(firstPass, { force: true });
  }
}

/**
 * The general path's first pass: one streaming COPY of every record into uncompressed Parquet (no
 * window function: that would hold the whole file in memory), then every check runs on that
 * columnar copy. Ids are numbered afterwards from its row positions (`firstPassSelect`).
 */
async function writeFirstPass(conn: DuckDBConnection, spec: LoadSpec, load: PreparedLoad, file: string): Promise<void> {
  await conn.run(`COPY (SELECT ${load.idExpr} AS id, ${load.fields} FROM ${spec.relation} t) TO ${sqlString(file)} (${SCRATCH_OPTIONS})`);
  await checkRecords(conn, spec, [file], `read_parquet(${sqlString(file)}, file_row_number = true)`, 'file_row_number', load.located);
}

/** The dataset's columns from the first pass read with `file_row_number`. */
function firstPassSelect(spec: LoadSpec): string {
  return spec.idField ? '* EXCLUDE (file_row_number)' : `${sqlString(`${spec.source}:`)} || (file_row_number + 1) AS id, * EXCLUDE (id, file_row_number)`;
}

/**
 * The rows `loadTable` would write, as parts a consumer computes in its own pass without the
 * dataset being written (engine/sdk/deferred.ts). Fast mode gives one part per slice of
 * `shardRows()` lines, parsed by the lane that consumes it, with the same ids, values and order
 * as the written dataset, and the same checks: a slice whose record count is not its line count
 * asks for the general mode (RestartScan), which makes the first pass of the general path and
 * reads it as one part.
 */
export async function openLoadParts(conn: DuckDBConnection, spec: LoadSpec, scratch: string, mode: 'fast' | 'general'): Promise<DeferredSource> {
  const load = await prepareLoad(conn, spec);
  mkdirSync(scratch, { recursive: true });
  const lines = spec.readLines;
  // Numbered ids count each slice's lines, so those slices may also end by size: each is copied to scratch, and a
  // slice of 65,536 long records could otherwise be gigabytes on disk at once. The id-field path counts in whole slices.
  const maxBytes = spec.idField ? Infinity : sliceMaxBytes();
  const slices = mode === 'fast' && load.sliceable && lines ? await lineSlices(lines.path, shardRows(), spec.signal, maxBytes) : [];
  if (lines && slices.length > 0 && !spec.idField) {
    // Numbered ids need no per-slice checks beyond the query's own.
    const several = slices.length > 1 && !slices.some((sl) => sl.blank);
    return several ? copiedSlices(spec, load, lines, slices, scratch) : wholeFile(spec, load, lines.path);
  }
  if (slices.length === 0 || !lines) {
    const firstPass = join(scratch, 'load.parquet');
    try {
      await writeFirstPass(conn, spec, load, firstPass);
    } catch (err) {
      throw await loadError(err, spec, load.located);
    }
    const relation = `(SELECT ${firstPassSelect(spec)} FROM read_parquet(${sqlString(firstPass)}, file_row_number = true))`;
    return { parts: 1, whole: true, read: [scratch], prepare: () => Promise.resolve({ relation, release: () => Promise.resolve() }), finish: () => Promise.resolve() };
  }

  const per = shardRows();
  const struct = columnStruct(load.columns);
  // The reader skips blank lines silently, so ids numbered from line positions would be off.
  if (slices.some((sl) => sl.blank)) throw new RestartScan('the file has blank lines');
  const idFiles: string[] = [];
  return {
    parts: slices.length,
    read: [scratch],
    async prepare(k, lane) {
      const slice = slices[k] as LineSlice;
      const file = join(scratch, `slice-${k}.jsonl`);
      const table = `forge_part_${k}`;
      await copySlice(spec, lines.path, slice, k * per, file);
      try {
        try {
          await lane.run(`CREATE TEMP TABLE ${table} AS SELECT ${load.select(k * per)} FROM ${lines.relation(file, struct)} t`);
        } catch (err) {
          throwIfAborted(spec.signal);
          throw new RestartScan(`lines ${k * per + 1}-${k * per + slice.lines} do not parse on their own (${cleanDuckDbMessage((err as Error).message)})`);
        }
        const counts = await lane.runAndReadAll(
          `SELECT count(*)::BIGINT AS n, count(*) FILTER (WHERE text IS NULL)::BIGINT AS missing, count(*) FILTER (WHERE id IS NULL)::BIGINT AS missing_ids FROM ${table}`,
        );
        const c = counts.getRowObjects()[0] ?? {};
        if (Number(c.n) !== slice.lines) throw new RestartScan(`lines ${k * per + 1}-${k * per + slice.lines} hold ${String(c.n)} records (blank lines or records over several lines)`);
        if (Number(c.missing) > 0) throw await load.located(`${String(c.missing)} record(s) have no "${spec.textField}"`, { field: spec.textField, string: true });
        if (spec.idField && Number(c.missing_ids) > 0) throw await load.located(`${String(c.missing_ids)} record(s) have no "${spec.idField}"`, { field: spec.idField, string: false });
        if (spec.idField) {
          const ids = join(scratch, `ids-${k}.parquet`);
          await lane.run(`COPY (SELECT id, ${k} AS part, row_number() OVER () AS pos FROM ${table}) TO ${sqlString(ids)} (FORMAT parquet)`);
          idFiles[k] = ids;
        }
      } catch (err) {
        rmSync(file, { force: true });
        await lane.run(`DROP TABLE IF EXISTS ${table}`);
        throw err;
      }
      return {
        relation: table,
        async release() {
          rmSync(file, { force: true });
          await lane.run(`DROP TABLE IF EXISTS ${table}`);
        },
      };
    },
    async finish(lane) {
      if (!spec.idField) return;
      await checkDuplicates(lane, spec, `read_parquet(${sqlStringList(idFiles)})`, '(part, pos)');
    },
  };
}

/** Copies a slice's bytes to `file` for a lane; a file changed since it was cut fails naming it and the lines. */
export async function copySlice(spec: Pick<LoadSpec, 'file' | 'signal'>, from: string, slice: LineSlice, linesBefore: number, file: string): Promise<void> {
  try {
    await copyByteRange(from, slice.start, slice.end, file);
  } catch (err) {
    rmSync(file, { force: true });
    throwIfAborted(spec.signal);
    throw new NodeError(`cannot read lines ${linesBefore + 1}-${linesBefore + slice.lines}: ${(err as Error).message}`, { file: spec.file });
  }
}

/** Largest slice copied for a lane (ends at the first line end past it): lanes + 1 of these sit on disk at most. */
function sliceMaxBytes(): number {
  const n = Number(process.env.FORGE_SLICE_MAX_BYTES);
  return Number.isInteger(n) && n > 0 ? n : 128 * 1024 * 1024;
}

/** Raised inside the query by a record without a text; DuckDB's message carries it back. */
const MISSING_TEXT = 'forge: a record has no text';

/** The input's records with the text check inside the query: below any window, which no filter of the consumer's chain is pushed through. */
function checkedText(spec: LoadSpec, relation: string): string {
  const text = sqlIdent(spec.textField);
  return `(SELECT * REPLACE (CASE WHEN ${text} IS NULL THEN error(${sqlString(MISSING_TEXT)}) ELSE ${text} END AS ${text}) FROM ${relation})`;
}

/** What an error of a query that reads the input itself means: a record without text (named by line), or a file to load on the general path. */
function explainInline(spec: LoadSpec, load: PreparedLoad): (err: unknown) => Promise<Error | null> {
  return async (err) => {
    const message = (err as Error).message ?? '';
    if (message.includes(MISSING_TEXT)) return load.located(`records have no "${spec.textField}"`, { field: spec.textField, string: true });
    // A line the reader cannot parse: the general path finds and names it.
    if (/JSON/.test(message)) return new RestartScan(`the file does not parse as JSON Lines (${cleanDuckDbMessage(message)})`);
    return null;
  };
}

/**
 * Fast mode with numbered ids on a file of several slices: one part per slice of `shardRows()`
 * lines, each copied into a file of its own in the scratch folder and parsed there by its lane, so
 * the parse runs on every lane. Every non-blank line of JSON Lines is one record or a parse error
 * (blank lines send the file to `wholeFile`), so a slice's ids start after the lines before it.
 *
 * A copy, not a named pipe fed with the slice's bytes: DuckDB cannot seek in a pipe, so it copies
 * what it reads once more, and on the 1 GB stream-memory input the pipes took 5.3-5.6 s against
 * 4.1-4.6 s for the copies (which hold lanes + 1 slices on disk at most, each removed once read).
 */
function copiedSlices(spec: LoadSpec, load: PreparedLoad, lines: NonNullable<LoadSpec['readLines']>, slices: LineSlice[], scratch: string): DeferredSource {
  const struct = columnStruct(load.columns);
  const explain = explainInline(spec, load);
  let before = 0;
  const offsets = slices.map((sl) => {
    const at = before;
    before += sl.lines;
    return at;
  });
  return {
    parts: slices.length,
    read: [scratch],
    async prepare(k) {
      const slice = slices[k] as LineSlice;
      const file = join(scratch, `slice-${k}.jsonl`);
      await copySlice(spec, lines.path, slice, offsets[k] as number, file);
      return {
        relation: `(SELECT ${load.select(offsets[k] as number)} FROM ${checkedText(spec, lines.relation(file, struct))} t)`,
        explain,
        release() {
          rmSync(file, { force: true });
          return Promise.resolve();
        },
      };
    },
    finish: () => Promise.resolve(),
  };
}

/**
 * Fast mode with numbered ids: the whole file as one part, read by the consumer's own query on all
 * threads, with no copy of the rows in between. Ids are numbered by a window over the records in
 * file order, as the general path numbers them; the text check sits below that window, which no
 * filter of the consumer's chain can be pushed through, so it sees every record, kept or not.
 */
function wholeFile(spec: LoadSpec, load: PreparedLoad, path: string): DeferredSource {
  const part: DeferredPart = {
    relation: `(SELECT ${load.select(0)} FROM ${checkedText(spec, spec.relation)} t)`,
    release: () => Promise.resolve(),
    explain: explainInline(spec, load),
  };
  return { parts: 1, whole: true, read: [], readFiles: [path], prepare: () => Promise.resolve(part), finish: () => Promise.resolve() };
}

/** Columns as a DuckDB struct of name: type, for a reader of part of the file. */
function columnStruct(columns: { name: string; type: string }[]): string {
  return `{${columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ')}}`;
}

/** How a table input maps onto the dataset contract, after checking its columns. */
interface PreparedLoad {
  columns: { name: string; type: string }[];
  idExpr: string;
  fields: string;
  /** The select list of a slice of lines whose first record is record `offset` (ids numbered from it). */
  select: (offset: number) => string;
  /** One record per line and no types a slice could detect differently: slices can be parsed on their own. */
  sliceable: boolean;
  located: Locate;
}

async function prepareLoad(conn: DuckDBConnection, spec: LoadSpec): Promise<PreparedLoad> {
  const located = async (fallback: string, required?: FieldRequirement): Promise<NodeError> => {
    const problem = spec.diagnose ? await spec.diagnose(required) : null;
    // A structural problem found on the way (a broken line) is not about the field that was asked for.
    if (problem) return new NodeError(problem.message, { file: spec.file, line: problem.line, field: problem.field });
    return new NodeError(cleanDuckDbMessage(fallback), { file: spec.file, field: required?.field });
  };
  const textRequirement: FieldRequirement = { field: spec.textField, string: true };

  let columns: { name: string; type: string }[];
  try {
    const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${spec.relation}`);
    columns = described.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (err) {
    throwIfAborted(spec.signal);
    throw await located((err as Error).message);
  }
  const names = new Set(columns.map((c) => c.name));
  const text = columns.find((c) => c.name === spec.textField);
  if (!text) {
    // A file DuckDB could only read as something else (a ragged CSV sniffed as one column) is
    // reported at its broken line rather than as a missing column.
    const problem = spec.diagnose ? await spec.diagnose() : null;
    if (problem) throw new NodeError(problem.message, { file: spec.file, line: problem.line, field: problem.field });
    throw new NodeError(`no column "${spec.textField}" (columns: ${columns.map((c) => c.name).join(', ') || 'none'}); set the text field param`, {
      file: spec.file,
      field: spec.textField,
    });
  }
  if (text.type !== 'VARCHAR') throw await located(`column "${spec.textField}" has type ${text.type}, expected text`, textRequirement);
  if (spec.idField && !names.has(spec.idField)) {
    throw new NodeError(`no column "${spec.idField}" for ids (columns: ${[...names].join(', ')})`, { file: spec.file, field: spec.idField });
  }

  const excluded = ['id', 'text', 'source', spec.textField, spec.idField].filter((c): c is string => !!c && names.has(c));
  const rest = excluded.length > 0 ? `t.* EXCLUDE (${[...new Set(excluded)].map(sqlIdent).join(', ')})` : 't.*';
  const sourceExpr = spec.keepSourceColumn && names.has('source') ? `coalesce(CAST(t.source AS VARCHAR), ${sqlString(spec.source)})` : sqlString(spec.source);
  const idExpr = spec.idField ? `CAST(t.${sqlIdent(spec.idField)} AS VARCHAR)` : 'NULL::VARCHAR';
  const fields = `t.${sqlIdent(spec.textField)} AS text, ${sourceExpr} AS source, ${rest}`;

  // Ids numbered by record position: the records before a slice are the lines before it (checked).
  const numbered = (offset: number) => `${sqlString(`${spec.source}:`)} || (${offset} + row_number() OVER ()) AS id`;
  const select = (offset: number) => `${spec.idField ? `${idExpr} AS id` : numbered(offset)}, ${fields}`;
  const sliceable = !!spec.readLines && columns.every((c) => !DETECTED_FORMAT_TYPE.test(c.type));
  return { columns, idExpr, fields, select, sliceable, located };
}

/** A failure while loading, as the user should see it: a node error as it is, else the line behind DuckDB's message. */
async function loadError(err: unknown, spec: LoadSpec, located: Locate): Promise<Error> {
  if (err instanceof NodeError) return err;
  throwIfAborted(spec.signal);
  return located((err as Error).message);
}

/** Types whose text format read_json detects from the whole file; a slice might detect another. */
const DETECTED_FORMAT_TYPE = /DATE|TIME|INTERVAL/;

type Locate = (fallback: string, required?: FieldRequirement) => Promise<NodeError>;

/**
 * The dataset contract's checks on the loaded rows (`files`, read as `staged` with `position`
 * giving file order): some records, every one with a text, and with `idField` set, ids present and
 * unique; the first problem in file order is thrown.
 */
async function checkRecords(conn: DuckDBConnection, spec: LoadSpec, files: string[], staged: string, position: string, located: Locate): Promise<void> {
  const row = await nullCounts(conn, files, staged);
  if (row.n === 0) throw new NodeError('no records in the file', { file: spec.file, line: 1 });
  if (row.missing > 0) throw await located(`${String(row.missing)} record(s) have no "${spec.textField}"`, { field: spec.textField, string: true });
  if (!spec.idField) return;
  if (row.missing_ids > 0) throw await located(`${String(row.missing_ids)} record(s) have no "${spec.idField}"`, { field: spec.idField, string: false });
  await checkDuplicates(conn, spec, staged, position);
}

/** The duplicated id that appears first in the file (`position` orders `staged` as the file), so the message is the same on every run. */
async function checkDuplicates(conn: DuckDBConnection, spec: LoadSpec, staged: string, position: string): Promise<void> {
  const dup = await conn.runAndReadAll(`SELECT id, count(*)::BIGINT AS n FROM ${staged} GROUP BY 1 HAVING count(*) > 1 ORDER BY min(${position}) LIMIT 1`);
  const d = dup.getRowObjects()[0];
  if (d) {
    const id = String(d.id);
    const where = spec.locateDuplicate ? await spec.locateDuplicate(id) : null;
    const lines = where ? ` (first on line ${where.firstLine}, again on line ${where.line})` : '';
    throw new NodeError(`id ${JSON.stringify(id)} appears ${String(d.n)} times${lines}; ids must be unique`, { file: spec.file, line: where?.line, field: spec.idField });
  }
}

/**
 * JSON Lines in one pass: the file is cut into slices of `shardRows()` lines, and each slice is
 * parsed and written as one shard on the single-threaded shard writer (shards in parallel), so
 * there is no scratch copy to write and read back. A shard gets the same rows, ids and so bytes as
 * on the general path. Returns null, leaving no shards, when the file does not fit that: a slice
 * whose record count differs from its line count (blank lines, a record over several lines) or one
 * DuckDB cannot read; the general path then loads it, or reports the problem at its line.
 */
async function loadLineSlices(
  conn: DuckDBConnection,
  spec: LoadSpec,
  lines: NonNullable<LoadSpec['readLines']>,
  columns: { name: string; type: string }[],
  select: (offset: number) => string,
  out: OutputBuilder,
  located: Locate,
): Promise<number | null> {
  const per = shardRows();
  const slices = await lineSlices(lines.path, per, spec.signal);
  if (slices.length === 0) return null;
  const dir = join(out.dir, SHARD_DIR);
  mkdirSync(dir, { recursive: true });
  const struct = `{${columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ')}}`;
  const counts: number[] = [];
  const jobs: ShardJob[] = slices.map((slice, k) => {
    // Beside the output's staging folder, so discarding the execution's staging removes it too.
    const file = `${out.dir}.slice-${k}.jsonl`;
    return {
      query: `SELECT ${select(k * per)} FROM ${lines.relation(file, struct)} t`,
      file: shardFile(dir, k),
      before: () => copyByteRange(lines.path, slice.start, slice.end, file),
      after: () => rmSync(file, { force: true }),
    };
  });
  const discard = () => {
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true });
    return null;
  };
  try {
    await writeShardFiles(jobs, PARQUET_OPTIONS, { signal: spec.signal, onWritten: ({ index, rows }) => (counts[index] = rows) });
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    throwIfAborted(spec.signal);
    return discard();
  }
  if (slices.some((s, k) => counts[k] !== s.lines)) return discard();
  const files = jobs.map((j) => j.file);
  const staged = `read_parquet(${sqlStringList(files)}, filename = true, file_row_number = true)`;
  await checkRecords(conn, spec, files, staged, '(filename, file_row_number)', located);
  return (await describeShards(conn, dir, out)).rows;
}

/**
 * Row count and NULL counts of `text` and `id` in the first-pass file. The Parquet footer has them
 * (DuckDB writes null counts for every column chunk), so this reads a few KB instead of scanning
 * the whole text column; a file without those statistics is scanned.
 */
async function nullCounts(conn: DuckDBConnection, files: string[], staged: string): Promise<{ missing: number; missing_ids: number; n: number }> {
  const meta = await conn.runAndReadAll(
    `SELECT path_in_schema AS col, count(*)::BIGINT AS chunks, sum(row_group_num_rows)::BIGINT AS n, sum(stats_null_count)::BIGINT AS nulls,
            count(*) FILTER (WHERE stats_null_count IS NULL)::BIGINT AS unknown
     FROM parquet_metadata(${sqlStringList(files)}) WHERE path_in_schema IN ('id', 'text') GROUP BY 1`,
  );
  const byCol = new Map(meta.getRowObjects().map((r) => [String(r.col), { chunks: Number(r.chunks), n: Number(r.n), nulls: Number(r.nulls), unknown: Number(r.unknown) }]));
  const text = byCol.get('text');
  const id = byCol.get('id');
  if (byCol.size === 0) {
    // No row groups at all: an empty file.
    const empty = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${staged}`);
    if (Number(empty.getRowObjects()[0]?.n ?? 0) === 0) return { missing: 0, missing_ids: 0, n: 0 };
  } else if (text && id && text.unknown === 0 && id.unknown === 0 && text.chunks === id.chunks && text.n === id.n) {
    return { missing: text.nulls, missing_ids: id.nulls, n: text.n };
  }
  const scanned = await conn.runAndReadAll(
    `SELECT count(*) FILTER (WHERE text IS NULL)::BIGINT AS missing, count(*) FILTER (WHERE id IS NULL)::BIGINT AS missing_ids, count(*)::BIGINT AS n FROM ${staged}`,
  );
  const r = scanned.getRowObjects()[0] ?? {};
  return { missing: Number(r.missing ?? 0), missing_ids: Number(r.missing_ids ?? 0), n: Number(r.n ?? 0) };
}

/** DuckDB appends a caret diagram pointing into our generated SQL; users need only the first line. */
export function cleanDuckDbMessage(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}
