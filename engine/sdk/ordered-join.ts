import { createHash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { HASH_PREFIX } from '../util/hash.js';

/** Large reads: the copy is bound by sha256, not by calls. */
const CHUNK = 8 << 20;

/** Parts finished in any order, joined into one file in index order. */
export interface OrderedJoin {
  /**
   * Part `index` is complete in `file`. It is appended, hashed and removed as soon as every part
   * before it is, while later parts are still being made: the parts never all sit on disk beside the
   * joined file.
   */
  ready(index: number, file: string): void;
  /** Waits for all `parts` parts to be joined; the hash and size of the joined file. */
  finish(parts: number): Promise<{ hash: string; bytes: number }>;
  /** Stops joining after a failure (the caller removes the file). */
  close(): Promise<void>;
}

/** Starts joining parts into a new file `to`, hashing the bytes on the way (one read of each part, no read-back). */
export async function joinInOrder(to: string): Promise<OrderedJoin> {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const dst = await open(to, 'w');
  const waiting = new Map<number, string>();
  let next = 0;
  let bytes = 0;
  let failure: unknown = null;
  let pump: Promise<void> = Promise.resolve();
  let closed = false;

  const drain = async () => {
    if (failure) return;
    for (let file = waiting.get(next); file !== undefined && !closed; file = waiting.get(next)) {
      waiting.delete(next);
      bytes += await appendHashed(dst, h, buf, file);
      await rm(file, { force: true });
      next++;
    }
  };
  const close = async () => {
    if (closed) return;
    closed = true;
    await pump;
    await dst.close();
  };
  return {
    ready(index, file) {
      waiting.set(index, file);
      pump = pump.then(drain).catch((err: unknown) => {
        failure ??= err;
      });
    },
    async finish(parts) {
      await pump;
      if (failure) throw failure;
      if (next !== parts) throw new Error(`joined ${next} of ${parts} parts`);
      await close();
      return { hash: HASH_PREFIX + h.digest('hex'), bytes };
    },
    close,
  };
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
