// A byte range of a file handed to DuckDB through a named pipe. DuckDB reads only whole files, and
// copying a 1 GB input into slice files costs a full extra write; a pipe per slice lets parallel
// single-threaded readers each parse their own range with nothing written to disk.
import { execFileSync } from 'node:child_process';
import { constants, createReadStream, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';

export interface FifoFeed {
  /** The pipe to give DuckDB as the file to read. */
  path: string;
  /** Resolves with the bytes fed once all of them were written and the pipe closed (EOF for the reader). */
  done: Promise<number>;
  /** Stops feeding (the reader may not have read everything) and removes the pipe. */
  close(): void;
}

let supported: boolean | undefined;

/** Whether named pipes can feed DuckDB here (Linux, with `mkfifo`). */
export function fifoFeedSupported(): boolean {
  if (supported === undefined) {
    supported = process.platform === 'linux' && hasMkfifo();
  }
  return supported;
}

function hasMkfifo(): boolean {
  try {
    execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Longest wait between looks for the reader: a slice waits at most this long after its reader opened the pipe. */
const MAX_POLL_MS = 20;

/** Makes named pipes at `paths` with one `mkfifo` (a fork of a large process is not free, so not one per pipe). */
export function makePipes(paths: readonly string[]): void {
  if (paths.length > 0) execFileSync('mkfifo', ['-m', '600', '--', ...paths], { stdio: 'ignore' });
}

/**
 * Feeds the pipe `path` (made by makePipes) bytes [start, end) of `file` once a reader has opened it.
 *
 * The write end is opened without blocking, retried until a reader is there: a blocking open would
 * hold a thread-pool thread (which DuckDB's queries need too) for a reader that may never come, and
 * a write end opened before the reader (read-write) would lose a small slice's bytes when it closes
 * before the reader opens.
 */
export function feedRange(file: string, start: number, end: number, path: string): FifoFeed {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let stop: (() => void) | undefined;
  let abandon: (() => void) | undefined;
  const done = new Promise<number>((resolve, reject) => {
    abandon = () => reject(new Error('feed closed before a reader came'));
    const attempt = (wait: number) => {
      if (closed) return;
      let fd: number;
      try {
        fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') return reject(err as Error);
        timer = setTimeout(() => attempt(Math.min(MAX_POLL_MS, wait * 2)), wait);
        return;
      }
      const sink = new Socket({ fd, readable: false, writable: true });
      const src = createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 });
      stop = () => {
        src.destroy();
        sink.destroy();
      };
      pipeline(src, sink).then(() => {
        // Closing the write end is the reader's end of file.
        sink.destroy();
        resolve(src.bytesRead);
      }, reject);
    };
    attempt(1);
  });
  // Awaited only after a reader finished; a feed stopped early must not become an unhandled rejection.
  done.catch(() => undefined);
  return {
    path,
    done,
    close() {
      closed = true;
      clearTimeout(timer);
      if (stop) stop();
      else abandon?.();
      rmSync(path, { force: true });
    },
  };
}
