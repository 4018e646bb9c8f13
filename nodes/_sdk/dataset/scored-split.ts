import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent } from '../../../engine/sdk/sql.js';
import type { ArtifactRef, OutputBuilder } from '../../../engine/sdk/types.js';
import { dropTemp, keptColumns, loadColumns, POS, positionedShards, writePerShard, type NewColumn } from './rows.js';

/**
 * What the retrievers share: pick rows by score, then write the dataset as two outputs (kept and the
 * rest) that carry the score, so a later node can re-threshold or label either side.
 */

/**
 * Positions whose score reaches `threshold` (all when undefined; NaN never does), cut to the best
 * `targetCount` (ties by position). In position order unless the cut sorted them best first.
 */
export function selectByScore(score: ArrayLike<number>, threshold: number | undefined, targetCount: number | undefined): number[] {
  let candidates: number[] = [];
  for (let i = 0; i < score.length; i++) if (!Number.isNaN(score[i]!) && (threshold === undefined || score[i]! >= threshold)) candidates.push(i);
  if (targetCount !== undefined && candidates.length > targetCount) {
    candidates.sort((a, b) => score[b]! - score[a]! || a - b);
    candidates = candidates.slice(0, targetCount);
  }
  return candidates;
}

export interface ScoredSplit {
  /** Rows of the dataset (the length of every column). */
  rows: number;
  /** Per-row values aligned with the dataset's positions, readable as `s.<name>` in `select`. */
  columns: NewColumn[];
  /** Positions that go to the kept output. */
  kept: readonly number[];
  /** What follows the dataset's own columns in the SELECT list, e.g. `s.score AS "score"`. */
  select: string;
  /** Output column names: dataset columns of the same name are replaced. */
  replaced: readonly string[];
  /** Further joins the `select` reads from (after `d`, the dataset, and `s`, the columns). */
  joins?: string;
}

/** Writes the rows of `ref` in `split.kept` to `keptOut` and the others to `restOut`, in dataset order. */
export async function writeScoredSplit(conn: DuckDBConnection, ref: ArtifactRef, split: ScoredSplit, keptOut: OutputBuilder, restOut: OutputBuilder): Promise<{ kept: number; rest: number }> {
  const keep = new Array<boolean>(split.rows).fill(false);
  for (const i of split.kept) keep[i] = true;
  const table = await loadColumns(conn, split.rows, [...split.columns, { name: 'keep', type: 'BOOLEAN', values: keep }]);
  try {
    const cols = keptColumns(ref, 'd', split.replaced);
    const query = (src: string, where: string) =>
      `SELECT ${cols}, ${split.select} FROM (${src}) d JOIN temp.main.${sqlIdent(table)} s ON s.pos = d.${POS}${split.joins ? ` ${split.joins}` : ''} WHERE ${where} ORDER BY d.${POS}`;
    const rows = await writePerShard(conn, await positionedShards(conn, ref), {
      kept: { out: keptOut, query: (src) => query(src, 's.keep') },
      rest: { out: restOut, query: (src) => query(src, 'NOT s.keep') },
    });
    return { kept: rows.kept ?? 0, rest: rows.rest ?? 0 };
  } finally {
    await dropTemp(conn, table);
  }
}
