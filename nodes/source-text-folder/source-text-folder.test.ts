import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph, tempDir, writeFiles } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const FILES = {
  'books/a.txt': 'First paragraph, line one\nline two.\n\nSecond paragraph.\n  \nxy\n',
  'books/sub/b.txt': 'Only one paragraph here.\n',
  'books/notes.md': 'not matched by *.txt\n',
};

describe('source.text-folder', () => {
  it('loads one record per file or per paragraph, with ids relative to the graph', async () => {
    const run = await runGraph(
      graph([
        { id: 'files', type: 'source.text-folder', params: { pattern: 'books/**/*.txt', source: 'books' } },
        { id: 'paras', type: 'source.text-folder', params: { pattern: 'books/**/*.txt', unit: 'paragraph', minChars: 3 } },
      ]),
      { files: FILES },
    );
    try {
      for (const n of ['files', 'paras']) expect(run.outcome(n).error).toBeUndefined();
      // One record per file: `chars` counts the whole file.
      expect((await run.rows('files')).map((r) => [r.id, r.source, r.chars])).toEqual([
        ['books/a.txt', 'books', String(FILES['books/a.txt'].length)],
        ['books/sub/b.txt', 'books', String(FILES['books/sub/b.txt'].length)],
      ]);
      // Paragraphs are split at blank lines (a line of spaces counts) and their line breaks become
      // spaces. DuckDB's trim() strips spaces only, so a file's final line break survives as a
      // trailing space and counts towards minChars (documented in the README; trimming it would
      // change the output of existing graphs).
      expect((await run.rows('paras')).map((r) => [r.id, r.text, r.source, r.chars])).toEqual([
        ['books/a.txt#1', 'First paragraph, line one line two.', 'text', '35'],
        ['books/a.txt#2', 'Second paragraph.', 'text', '17'],
        ['books/a.txt#3', 'xy ', 'text', '3'],
        ['books/sub/b.txt#1', 'Only one paragraph here. ', 'text', '25'],
      ]);
      const strict = await runGraph(graph([{ id: 'paras', type: 'source.text-folder', params: { pattern: 'books/**/*.txt', unit: 'paragraph', minChars: 4 } }]), {
        dir: run.dir,
        engine: run.engine,
      });
      // Dropped paragraphs keep their number: the ids of the others do not move.
      expect((await strict.rows('paras')).map((r) => r.id)).toEqual(['books/a.txt#1', 'books/a.txt#2', 'books/sub/b.txt#1']);
    } finally {
      run.close();
    }
  });

  it('fails on a file that is not UTF-8, naming the node, the file and the line', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'texts/a.txt': 'fine\n' });
    writeFileSync(join(dir, 'texts/b.txt'), Buffer.concat([Buffer.from('line one\nline two\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]));
    const run = await runGraph(graph([{ id: 'books', type: 'source.text-folder', params: { pattern: 'texts/*.txt' } }]), { dir });
    try {
      const o = run.outcome('books');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'books', file: 'texts/b.txt', line: 3 } });
      expect(o.error).toMatch(/invalid UTF-8.*not UTF-8 text/);
    } finally {
      run.close();
    }
  });
});
