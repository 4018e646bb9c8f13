import { open } from 'node:fs/promises';
import { throwIfAborted } from './node-error.js';

/** A run of whole lines of a file: bytes [start, end) hold `lines` lines (the last may lack its newline). */
export interface LineSlice {
  start: number;
  end: number;
  lines: number;
  /** Holds a line that is empty or only spaces, tabs and CRs: DuckDB's JSON Lines reader skips those silently. */
  blank: boolean;
}

/** Large enough that reading costs little per byte, small enough to stay out of the memory budget. */
const CHUNK = 8 << 20;

/**
 * Cuts a file into consecutive slices of `per` lines each (the last one shorter), by scanning it for
 * newlines once. A file that does not end in a newline still counts its last line. With `maxBytes`, a
 * slice also ends at the first line end at or past that many bytes, so slices of long lines stay small.
 */
export async function lineSlices(path: string, per: number, signal?: AbortSignal, maxBytes = Infinity): Promise<LineSlice[]> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    const slices: LineSlice[] = [];
    let pos = 0;
    let start = 0;
    let lines = 0;
    let last = 10;
    let blank = false;
    // No byte but whitespace seen yet on the current line; almost every line ends that at its first byte.
    let fresh = true;
    for (;;) {
      if (signal) throwIfAborted(signal);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      let from = 0;
      for (let i = chunk.indexOf(10); ; i = chunk.indexOf(10, i + 1)) {
        const end = i === -1 ? bytesRead : i;
        if (fresh) {
          for (let q = from; q < end; q++) {
            const b = chunk[q];
            if (b !== 32 && b !== 9 && b !== 13) {
              fresh = false;
              break;
            }
          }
        }
        if (i === -1) break;
        if (fresh) blank = true;
        fresh = true;
        from = i + 1;
        if (++lines === per || pos + i + 1 - start >= maxBytes) {
          slices.push({ start, end: pos + i + 1, lines, blank });
          start = pos + i + 1;
          lines = 0;
          blank = false;
        }
      }
      last = chunk[bytesRead - 1] as number;
      pos += bytesRead;
    }
    if (last !== 10) {
      lines++;
      if (fresh) blank = true;
    }
    if (lines > 0) slices.push({ start, end: pos, lines, blank });
    return slices;
  } finally {
    await fh.close();
  }
}

/** Small: a fresh buffer per copy is touched page by page, and a few MiB read per call cost no more. */
const COPY_CHUNK = 1 << 20;

/** Copies bytes [start, end) of `from` into a new file `to`. */
export async function copyByteRange(from: string, start: number, end: number, to: string): Promise<void> {
  const src = await open(from, 'r');
  try {
    const dst = await open(to, 'w');
    try {
      const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, end - start)));
      for (let pos = start; pos < end;) {
        const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) throw new Error(`${from} ended at byte ${pos}, expected ${end}: was it changed while loading?`);
        await dst.write(buf, 0, bytesRead);
        pos += bytesRead;
      }
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}
