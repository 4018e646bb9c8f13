// A byte range of a file fed to DuckDB through a named pipe (engine/sdk/fifo-feed.ts): what the
// deferred pass's lanes read instead of slice copies.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedRange as feedPipe, fifoFeedSupported, makePipes } from '../sdk/fifo-feed.js';

const feedRange = (file: string, start: number, end: number, pipe: string) => {
  makePipes([pipe]);
  return feedPipe(file, start, end, pipe);
};

let dir: string;
let conn: DuckDBConnection;
const lines = Array.from({ length: 10 }, (_, i) => `{"n":${i},"text":"line ${i}"}\n`);
const starts = lines.map((_, i) => lines.slice(0, i).join('').length);
const read = (pipe: string) =>
  conn.runAndReadAll(`SELECT n FROM read_json('${pipe}', format = 'newline_delimited', columns = {'n': 'BIGINT', 'text': 'VARCHAR'})`).then((r) => r.getRows().map((row) => Number(row[0])));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-fifo-'));
  writeFileSync(join(dir, 'in.jsonl'), lines.join(''));
  conn = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
});
afterAll(() => {
  conn.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(fifoFeedSupported())('feedRange', () => {
  it('gives the reader exactly the lines of the range and reports the bytes fed', async () => {
    const end = starts[7] as number;
    const feed = feedRange(join(dir, 'in.jsonl'), starts[3] as number, end, join(dir, 'a.pipe'));
    try {
      expect(await read(feed.path)).toEqual([3, 4, 5, 6]);
      expect(await feed.done).toBe(end - (starts[3] as number));
    } finally {
      feed.close();
    }
    expect(existsSync(join(dir, 'a.pipe'))).toBe(false);
  });

  it('feeds several pipes to readers in parallel, each its own range', async () => {
    const conns = [conn, await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect()];
    const total = lines.join('').length;
    const feeds = [feedRange(join(dir, 'in.jsonl'), 0, starts[5] as number, join(dir, 'b0.pipe')), feedRange(join(dir, 'in.jsonl'), starts[5] as number, total, join(dir, 'b1.pipe'))];
    try {
      const got = await Promise.all(
        feeds.map((f, i) =>
          (conns[i] as DuckDBConnection)
            .runAndReadAll(`SELECT n FROM read_json('${f.path}', format = 'newline_delimited', columns = {'n': 'BIGINT', 'text': 'VARCHAR'})`)
            .then((r) => r.getRows().map((row) => Number(row[0]))),
        ),
      );
      expect(got).toEqual([
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
      ]);
    } finally {
      for (const f of feeds) f.close();
      conns[1]?.closeSync();
    }
  });

  it('reports fewer bytes when the file is shorter than the range (changed since it was sliced)', async () => {
    const total = lines.join('').length;
    const feed = feedRange(join(dir, 'in.jsonl'), starts[8] as number, total + 500, join(dir, 'c.pipe'));
    try {
      expect(await read(feed.path)).toEqual([8, 9]);
      expect(await feed.done).toBe(total - (starts[8] as number));
    } finally {
      feed.close();
    }
  });

  it('feeds a range of several read buffers (MiBs) in order, byte for byte', async () => {
    // Records of ~1 KiB: the range spans several of the feed's reused 1 MiB buffers and ends mid-buffer.
    const big = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"text":"${String(i).padStart(6, '0').repeat(150)}"}\n`);
    writeFileSync(join(dir, 'big.jsonl'), big.join(''));
    const from = big.slice(0, 1000).join('').length;
    const to = from + big.slice(1000, 4321).join('').length;
    const feed = feedRange(join(dir, 'big.jsonl'), from, to, join(dir, 'e.pipe'));
    try {
      const r = await conn.runAndReadAll(`SELECT n, text FROM read_json('${feed.path}', format = 'newline_delimited', columns = {'n': 'BIGINT', 'text': 'VARCHAR'})`);
      const rows = r.getRows();
      expect(to - from).toBeGreaterThan(2.5 * 1024 * 1024);
      expect(rows.map((row) => Number(row[0]))).toEqual(Array.from({ length: 3321 }, (_, i) => 1000 + i));
      expect(rows.every((row) => row[1] === String(row[0]).padStart(6, '0').repeat(150))).toBe(true);
      expect(await feed.done).toBe(to - from);
    } finally {
      feed.close();
    }
  });

  it('stops without a reader: nothing waits forever and the pipe is removed', async () => {
    const feed = feedRange(join(dir, 'in.jsonl'), 0, 10, join(dir, 'd.pipe'));
    expect(existsSync(feed.path)).toBe(true);
    feed.close();
    await expect(feed.done).rejects.toThrow(/closed before a reader came/);
    expect(existsSync(feed.path)).toBe(false);
  });
});
