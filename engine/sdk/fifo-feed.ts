// A byte range of a file handed to DuckDB through a named pipe. DuckDB reads only whole files, and
// copying a 1 GB input into slice files costs a full extra write; a pipe per slice lets parallel
// single-threaded readers each parse their own range with nothing written to disk.
import { execFileSync } from 'node:child_process';
import { constants, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Socket } from 'node:net';

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

/** Bytes per read of the input; two buffers of this are reused for the whole range. */
const FEED_CHUNK = 1 << 20;

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
      // Errors also reach the pending write's callback; without a listener they would be uncaught.
      sink.on('error', reject);
      stop = () => sink.destroy();
      pump(file, start, end, sink, () => closed).then((fed) => {
        // Closing the write end is the reader's end of file.
        sink.destroy();
        resolve(fed);
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

/**
 * Copies bytes [start, end) of `file` into `sink` through two reused buffers: one is read into while
 * the other is written. A stream would allocate a buffer per chunk, and on a VM the first-touch page
 * faults of fresh buffers cost more than the copies (bench/stream-memory).
 */
async function pump(file: string, start: number, end: number, sink: Socket, stopped: () => boolean): Promise<number> {
  const fh = await open(file, 'r');
  let [current, spare] = [Buffer.allocUnsafeSlow(FEED_CHUNK), Buffer.allocUnsafeSlow(FEED_CHUNK)];
  let writing: Promise<void> = Promise.resolve();
  let pos = start;
  try {
    while (pos < end && !stopped()) {
      // The write of this buffer's previous bytes finished before the last write started (below).
      const { bytesRead } = await fh.read(current, 0, Math.min(FEED_CHUNK, end - pos), pos);
      if (bytesRead === 0) break;
      await writing;
      const chunk = current.subarray(0, bytesRead);
      writing = new Promise<void>((resolve, reject) => sink.write(chunk, (err) => (err ? reject(err) : resolve())));
      pos += bytesRead;
      [current, spare] = [spare, current];
    }
    await writing;
  } finally {
    // A failed write leaves `writing` rejected; it is the error already thrown, not a second one.
    writing.catch(() => undefined);
    await fh.close();
  }
  return pos - start;
}
