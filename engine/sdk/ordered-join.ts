import { createHash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { HASH_PREFIX } from '../util/hash.js';

/** Large reads: the copy is bound by sha256, not by calls. */
const CHUNK = 8 << 20;
/** Streamed parts' bytes held in memory before their producers are paused (see `stream`). */
export const JOIN_BUFFER_BYTES = 128 << 20;
/** Chunks written with one call. */
const WRITE_BATCH = 4 << 20;

/** A part's producer, paused while too many bytes wait in memory. */
export interface Flow {
  pause(): void;
  resume(): void;
}

/** Where a streamed part's bytes go, in order; `end` once all were pushed. */
export interface PartSink {
  push(chunk: Buffer): void;
  end(): void;
}

/** Parts finished in any order, joined into one file in index order. */
export interface OrderedJoin {
  /**
   * Part `index` is complete in `file`. It is appended, hashed and removed as soon as every part
   * before it is, while later parts are still being made: the parts never all sit on disk beside the
   * joined file.
   */
  ready(index: number, file: string): void;
  /**
   * Part `index` arrives as chunks, while it is made. The current part's chunks go straight to the
   * file; a later part's wait in memory until the parts before it are joined, and its producer is
   * paused while more than `bufferBytes` wait, so no part is ever written twice.
   */
  stream(index: number, flow: Flow): PartSink;
  /** Waits for all `parts` parts to be joined; the hash and size of the joined file. */
  finish(parts: number): Promise<{ hash: string; bytes: number }>;
  /** Stops joining after a failure, letting every paused producer run on (the caller removes the file). */
  close(): Promise<void>;
}

interface Part {
  file?: string;
  chunks: Buffer[];
  ended: boolean;
  flow?: Flow;
  paused: boolean;
}

/** Starts joining parts into a new file `to`, hashing the bytes on the way (one read of each part, no read-back). */
export async function joinInOrder(to: string, bufferBytes = JOIN_BUFFER_BYTES): Promise<OrderedJoin> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const dst = await open(to, 'w');
  const parts = new Map<number, Part>();
  let next = 0;
  let bytes = 0;
  let buffered = 0;
  let target = Infinity;
  let failure: unknown = null;
  let closed = false;
  let wakeUp: (() => void) | null = null;
  const poke = () => {
    const w = wakeUp;
    wakeUp = null;
    w?.();
  };
  const part = (index: number): Part => {
    let p = parts.get(index);
    if (!p) parts.set(index, (p = { chunks: [], ended: false, paused: false }));
    return p;
  };
  const setPaused = (p: Part, paused: boolean) => {
    if (p.paused === paused || !p.flow) return;
    p.paused = paused;
    if (paused) p.flow.pause();
    else p.flow.resume();
  };

  const pump = async () => {
    while (!closed && next < target) {
      const cur = parts.get(next);
      if (cur?.file !== undefined) {
        bytes += await appendHashed(dst, h, buf, cur.file);
        await rm(cur.file, { force: true });
      } else if (cur && cur.chunks.length > 0) {
        const batch: Buffer[] = [];
        let size = 0;
        while (cur.chunks.length > 0 && size < WRITE_BATCH) {
          const c = cur.chunks.shift() as Buffer;
          h.update(c);
          batch.push(c);
          size += c.length;
        }
        buffered -= size;
        await writeAll(dst, batch, size);
        bytes += size;
        if (buffered < bufferBytes / 2) for (const p of parts.values()) setPaused(p, false);
        continue;
      } else if (!cur?.ended) {
        // The current part always flows: it is what every later part waits for.
        if (cur) setPaused(cur, false);
        await new Promise<void>((resolve) => (wakeUp = resolve));
        continue;
      }
      parts.delete(next);
      next++;
    }
  };
  const running = pump().catch((err: unknown) => {
    failure ??= err;
  });

  const close = async () => {
    if (closed) return;
    closed = true;
    poke();
    // A producer paused here (a query blocked writing its pipe) must be able to finish or fail.
    for (const p of parts.values()) setPaused(p, false);
    parts.clear();
    await running;
    await dst.close();
  };
  return {
    ready(index, file) {
      const p = part(index);
      p.file = file;
      p.ended = true;
      poke();
    },
    stream(index, flow) {
      const p = part(index);
      p.flow = flow;
      return {
        push(chunk) {
          // After a failure the bytes go nowhere, so no producer waits on them.
          if (closed) return;
          p.chunks.push(chunk);
          buffered += chunk.length;
          if (buffered > bufferBytes) setPaused(p, true);
          if (index === next) poke();
        },
        end() {
          p.ended = true;
          if (index === next) poke();
        },
      };
    },
    async finish(count) {
      target = count;
      poke();
      await running;
      if (failure) throw failure;
      if (next !== count) throw new Error(`joined ${next} of ${count} parts`);
      await close();
      return { hash: HASH_PREFIX + h.digest('hex'), bytes };
    },
    close,
  };
}

async function writeAll(dst: FileHandle, chunks: Buffer[], size: number): Promise<void> {
  const done = (await dst.writev(chunks)).bytesWritten;
  if (done === size) return;
  // A short write (a full disk, a signal): the rest one call at a time, so its error is the real one.
  const rest = Buffer.concat(chunks, size);
  for (let off = done; off < size;) off += (await dst.write(rest, off, size - off)).bytesWritten;
}

async function appendHashed(dst: FileHandle, h: ReturnType<typeof createHash>, buf: Buffer, file: string): Promise<number> {
  let bytes = 0;
  const src = await open(file, 'r');
  try {
    for (let n = (await src.read(buf, 0, CHUNK)).bytesRead; n > 0; n = (await src.read(buf, 0, CHUNK)).bytesRead) {
      const chunk = buf.subarray(0, n);
      h.update(chunk);
      for (let off = 0; off < n;) off += (await dst.write(chunk, off, n - off)).bytesWritten;
      bytes += n;
    }
  } finally {
    await src.close();
  }
  return bytes;
}
