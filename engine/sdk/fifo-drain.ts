// A named pipe DuckDB writes a query's output to, read back by Node while it is written: a lane's
// part reaches the joined file without being written to disk first.
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Flow, PartSink } from './ordered-join.js';

export interface PipeDrain {
  /** Pauses and resumes reading; a paused pipe fills and the writer (DuckDB) waits. */
  flow: Flow;
  /** The writer is done (its query returned): resolves with the bytes read once the pipe is empty. */
  writerDone(): Promise<number>;
  /** Stops reading after a failure; the pipe file stays for the next part. */
  close(): void;
}

/**
 * Reads the pipe `path` (made by makePipes) into `sink` until the writer is done. The read end is
 * opened first and without blocking, and a write end is held open here as well: DuckDB's own open
 * of the pipe then never waits, and the reader sees no end of file before DuckDB has opened it or
 * between its writes. Closing that held end after DuckDB's query returned is the end of the part.
 */
export function drainPipe(path: string, sink: (flow: Flow) => PartSink): PipeDrain {
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let heldFd: number | null = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  const socket = new Socket({ fd: readFd, readable: true, writable: false });
  const flow: Flow = { pause: () => socket.pause(), resume: () => socket.resume() };
  const out = sink(flow);
  let bytes = 0;
  const ended = new Promise<number>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      out.push(chunk);
    });
    socket.once('end', () => {
      out.end();
      socket.destroy();
      resolve(bytes);
    });
    socket.once('error', reject);
  });
  ended.catch(() => undefined);
  const release = () => {
    if (heldFd !== null) closeSync(heldFd);
    heldFd = null;
  };
  return {
    flow,
    writerDone() {
      release();
      return ended;
    },
    close() {
      release();
      socket.destroy();
    },
  };
}
