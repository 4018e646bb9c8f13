import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyByteRange, lineSlices } from '../../engine/sdk/line-slices.js';
import { existsSync, readFileSync } from 'node:fs';
import { copySlice } from '../../engine/sdk/loader.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph, tempDir, writeFiles } from '../_sdk/testing/graph.js';
import { join } from 'node:path';

// Set before the first run starts the worker pool, which takes the environment along.
process.env.FORGE_SHARD_ROWS = '4';
afterEach(cleanupTempDirs);
afterAll(async () => {
  await closeExecutor();
  delete process.env.FORGE_SHARD_ROWS;
});

const records = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, text: `record ${i} ${'é✓'.repeat(i)}`, meta: { lang: i % 2 ? 'en' : 'de', n: i }, tags: [i, i + 1] }));
const lines = records.map((r) => JSON.stringify(r)).join('\n');

describe('source.jsonl slice by slice', () => {
  it('cuts a file into slices of whole lines, counting a last line without its newline', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'a.txt': 'a\nbb\nccc\nd', 'b.txt': 'a\nbb\n' });
    expect(await lineSlices(join(dir, 'a.txt'), 2)).toEqual([
      { start: 0, end: 5, lines: 2, blank: false },
      { start: 5, end: 10, lines: 2, blank: false },
    ]);
    expect(await lineSlices(join(dir, 'b.txt'), 3)).toEqual([{ start: 0, end: 5, lines: 2, blank: false }]);
  });

  it('copies a slice byte for byte across read buffers, and fails when the file got shorter since it was cut', async () => {
    const dir = tempDir();
    const body = Array.from({ length: 40_000 }, (_, i) => `{"n":${i},"text":"${'x'.repeat(i % 97)}"}\n`).join('');
    writeFiles(dir, { 'big.jsonl': body });
    const [first, second] = await lineSlices(join(dir, 'big.jsonl'), 25_000);
    if (!first || !second) throw new Error('expected two slices');
    expect(second.end - second.start).toBeGreaterThan(1 << 20);
    await copyByteRange(join(dir, 'big.jsonl'), second.start, second.end, join(dir, 'slice.jsonl'));
    expect(readFileSync(join(dir, 'slice.jsonl'), 'utf8')).toBe(body.slice(second.start, second.end));
    writeFiles(dir, { 'big.jsonl': body.slice(0, second.start + 10) });
    await expect(copyByteRange(join(dir, 'big.jsonl'), second.start, second.end, join(dir, 'slice2.jsonl'))).rejects.toThrow(/ended at byte .*changed while loading/);
    // As a lane's copy: a node error naming the graph's file and the slice's lines, and no half-copied slice left.
    const failed = await copySlice({ file: 'big.jsonl', signal: new AbortController().signal }, join(dir, 'big.jsonl'), second, first.lines, join(dir, 'slice3.jsonl')).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(NodeError);
    expect((failed as NodeError).message).toMatch(new RegExp(`^cannot read lines ${first.lines + 1}-${first.lines + second.lines}: .*changed while loading`));
    expect((failed as NodeError).location).toMatchObject({ file: 'big.jsonl' });
    expect(existsSync(join(dir, 'slice3.jsonl'))).toBe(false);
  });

  it('also ends a slice at the first line end past a byte size, counting its lines', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'e.txt': 'aaaa\nb\ncccccc\nd\ne\n' });
    // Lines end at bytes 5, 7, 14, 16, 18; at most 10 lines per slice, and a slice ends once it holds 6 bytes or more.
    expect(await lineSlices(join(dir, 'e.txt'), 10, undefined, 6)).toEqual([
      { start: 0, end: 7, lines: 2, blank: false },
      { start: 7, end: 14, lines: 1, blank: false },
      { start: 14, end: 18, lines: 2, blank: false },
    ]);
    expect(await lineSlices(join(dir, 'e.txt'), 2, undefined, 6)).toEqual([
      { start: 0, end: 7, lines: 2, blank: false },
      { start: 7, end: 14, lines: 1, blank: false },
      { start: 14, end: 18, lines: 2, blank: false },
    ]);
  });

  it('marks the slices holding a line that is empty or only whitespace (the JSON Lines reader skips those)', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'c.txt': '{}\n\n{}\n{}\n \t\r\n{}\n{}\n{"a": " "}\n{}\n  ', 'd.txt': ' {}\n{}\n' });
    expect((await lineSlices(join(dir, 'c.txt'), 2)).map((s) => [s.lines, s.blank])).toEqual([
      [2, true],
      [2, false],
      [2, true],
      [2, false],
      [2, true],
    ]);
    // Leading whitespace before a record is not a blank line.
    expect((await lineSlices(join(dir, 'd.txt'), 5)).map((s) => s.blank)).toEqual([false]);
  });

  it('gives the same shards, ids and artifact as the two-pass load that a blank line falls back to', async () => {
    // b.jsonl ends in a blank line: its last slice has one line more than records, which the
    // slice path cannot number, so it is loaded through the scratch copy instead.
    const nodes = ['a', 'b', 'ida', 'idb'].map((id) => ({
      id,
      type: 'source.jsonl',
      params: { path: `${id.replace('id', '')}.jsonl`, source: 'src', ...(id.startsWith('id') ? { idField: 'key' } : {}) },
    }));
    const run = await runGraph(graph(nodes), { files: { 'a.jsonl': `${lines}\n`, 'b.jsonl': `${lines}\n\n` } });
    try {
      for (const n of ['a', 'b', 'ida', 'idb']) expect(run.outcome(n).error).toBeUndefined();
      const shards = (id: string) => run.artifact(id, 'out').manifest.files.filter((f) => f.path.startsWith('shards/'));
      expect(shards('a')).toHaveLength(3);
      expect(shards('a')).toEqual(shards('b'));
      expect(run.artifact('a', 'out').hash).toBe(run.artifact('b', 'out').hash);
      expect(run.artifact('ida', 'out').hash).toBe(run.artifact('idb', 'out').hash);
      const rows = await run.rows('a');
      expect(rows.map((r) => r.id)).toEqual(records.map((_, i) => `src:${i + 1}`));
      // Nested fields keep their structure (BIGINTs come back as JSON strings).
      expect(rows.map((r) => r.meta)).toEqual(records.map((r) => ({ lang: r.meta.lang, n: String(r.meta.n) })));
      expect((await run.rows('ida')).map((r) => r.id)).toEqual(records.map((r) => r.key));
    } finally {
      run.close();
    }
  });

  it('reports a duplicate id found across slices at its lines', async () => {
    const dup = [...records.slice(0, 7), { ...records[1], text: 'again' }].map((r) => JSON.stringify(r)).join('\n');
    const run = await runGraph(graph([{ id: 'in', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'key' } }]), { files: { 'd.jsonl': dup } });
    try {
      expect(run.outcome('in')).toMatchObject({ state: 'failed', location: { nodeId: 'in', file: 'd.jsonl', line: 8, field: 'key' } });
      expect(run.outcome('in').error).toMatch(/id "k1" appears 2 times \(first on line 2, again on line 8\)/);
    } finally {
      run.close();
    }
  });
});
