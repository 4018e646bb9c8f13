import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

// RFC 4180 in every shape the loader must survive: a quoted delimiter, a doubled quote, and a quoted
// field spanning two lines (so record 3 starts on line 4, not line 3).
const CSV = ['doc,body,stars', 'x1,"Call get_weather(city=""Oslo""), then reply",5', 'x2,"Two', 'lines",3', 'x3,plain text,4', ''].join('\n');

describe('source.csv', () => {
  it('maps the text and id columns onto the dataset contract and keeps the other columns with their types', async () => {
    const run = await runGraph(
      graph([
        { id: 'byId', type: 'source.csv', params: { path: 'api.csv', textField: 'body', idField: 'doc' } },
        { id: 'numbered', type: 'source.csv', params: { path: 'api.csv', textField: 'body', source: 'gorilla' } },
        { id: 'tsv', type: 'source.csv', params: { path: 'plain.tsv', header: false, textField: 'column1' } },
      ]),
      { files: { 'api.csv': CSV, 'plain.tsv': 'a\tfirst line\nb\tsecond line\n' } },
    );
    try {
      for (const n of ['byId', 'numbered', 'tsv']) expect(run.outcome(n).error).toBeUndefined();
      const rows = await run.rows('byId');
      expect(rows).toEqual([
        { id: 'x1', text: 'Call get_weather(city="Oslo"), then reply', source: 'api', stars: '5' },
        { id: 'x2', text: 'Two\nlines', source: 'api', stars: '3' },
        { id: 'x3', text: 'plain text', source: 'api', stars: '4' },
      ]);
      expect(run.artifact('byId', 'out').manifest.schema?.map((c) => [c.name, c.type])).toEqual([
        ['id', 'VARCHAR'],
        ['text', 'VARCHAR'],
        ['source', 'VARCHAR'],
        ['stars', 'BIGINT'],
      ]);
      // Without an id column the records are numbered in file order and the `doc` column is kept.
      expect((await run.rows('numbered')).map((r) => [r.id, r.doc, r.source])).toEqual([
        ['gorilla:1', 'x1', 'gorilla'],
        ['gorilla:2', 'x2', 'gorilla'],
        ['gorilla:3', 'x3', 'gorilla'],
      ]);
      // The tab is detected, and without a header the columns are numbered.
      expect((await run.rows('tsv')).map((r) => [r.id, r.text, r.column0])).toEqual([
        ['plain:1', 'first line', 'a'],
        ['plain:2', 'second line', 'b'],
      ]);
    } finally {
      run.close();
    }
  });

  it('fails on a ragged row, naming the node, the file and the line the record starts on', async () => {
    // Record 3 starts on line 4 (record 2 spans lines 2-3) and has one field too many.
    const ragged = ['id,text', '1,"spans', 'two lines"', '2,too,many', '3,fine', ''].join('\n');
    const run = await runGraph(graph([{ id: 'table', type: 'source.csv', params: { path: 'bad.csv', idField: 'id' } }]), { files: { 'bad.csv': ragged } });
    try {
      const o = run.outcome('table');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'table', file: 'bad.csv', line: 4 } });
      expect(o.error).toMatch(/expected 2 fields \(the header has 2\), found 3/);
    } finally {
      run.close();
    }
  });
});
