import { NodeError } from '../sdk/node-error.js';

/** errno codes for "nothing more can be written here": out of blocks or inodes, or over quota. */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);
/** DuckDB and child processes report it as text, not as an errno. */
const FULL_TEXT = /no space left on device|disk quota exceeded/i;

/** Is this error the filesystem saying it is full (by errno, or in a library's message)? */
export function isDiskFull(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (typeof code === 'string' && FULL_CODES.has(code)) || FULL_TEXT.test(err.message);
}

/**
 * The path a full-disk error was about: the one Node put on the error (open, mkdir, rename carry
 * it; a write on a file descriptor does not), else the one the caller was writing to.
 */
function pathOf(err: Error, fallback: string): string {
  const own = (err as NodeJS.ErrnoException).path;
  if (typeof own === 'string' && own !== '') return own;
  // Errors from worker threads arrive as plain messages: "ENOSPC: no space left on device, open '/x/y'".
  const quoted = /, \w+ '([^']+)'/.exec(err.message);
  return quoted?.[1] ?? fallback;
}

/**
 * Turns ENOSPC / EDQUOT into the one message a user can act on, naming the path and the node;
 * any other error is returned unchanged.
 */
export function explainDiskFull(err: unknown, nodeId: string, writingTo: string): unknown {
  if (!isDiskFull(err)) return err;
  const e = err as Error;
  const location = err instanceof NodeError ? err.location : {};
  const path = err instanceof NodeError && location.file ? location.file : pathOf(e, writingTo);
  return new NodeError(`the disk is full: no space left to write ${path}`, { ...location, nodeId, file: path });
}

/** Runs a write and rethrows a full-disk failure as explainDiskFull's NodeError. */
export async function withDiskFull<T>(nodeId: string, writingTo: string, write: () => Promise<T> | T): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw explainDiskFull(err, nodeId, writingTo);
  }
}
