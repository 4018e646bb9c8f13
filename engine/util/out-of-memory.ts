import { NodeError } from '../sdk/node-error.js';
import { DEFAULT_MEMORY_LIMIT } from '../store/duckdb.js';

/** DuckDB's text when its buffer manager cannot get memory under its limit. */
const DUCKDB_OOM = /Out of Memory Error: ([^\n]*)/;

/**
 * Turns DuckDB running out of its memory limit into a message a user can act on (the limit and the
 * setting that raises it), instead of an internal error; any other error is returned unchanged.
 */
export function explainOutOfMemory(err: unknown, nodeId: string, nodeType: string): unknown {
  if (!(err instanceof Error) || err instanceof NodeError) return err;
  const found = DUCKDB_OOM.exec(err.message);
  if (!found) return err;
  const limit = process.env.FORGE_DUCKDB_MEMORY ?? `${DEFAULT_MEMORY_LIMIT} (the default)`;
  return new NodeError(
    `${nodeType} ran out of DuckDB memory at its limit, FORGE_DUCKDB_MEMORY=${limit}: ${found[1]?.trim() ?? ''}. ` +
      'Set FORGE_DUCKDB_MEMORY higher (e.g. FORGE_DUCKDB_MEMORY=2GB) if the machine has the memory, and run again: finished nodes are reused.',
    { nodeId },
  );
}
