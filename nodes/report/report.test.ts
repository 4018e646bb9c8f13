import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const rows = Array.from({ length: 20 }, (_, i) => ({ id: `r${i}`, text: 'some words here', score: i / 20 }));
const files = { 'd.jsonl': rows.map((r) => JSON.stringify(r)).join('\n') };

describe('sink.report in a run', () => {
  it('collects upstream metrics and charts into report.md and one SVG per chart in the folder', async () => {
    const doc = graph(
      [
        { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
        { id: 'hist', type: 'view.histogram', params: { column: 'score', bins: 4 } },
        { id: 'report', type: 'sink.report', params: { title: 'Scores', folder: 'out', keys: { hist: ['count', 'max'] }, labels: { hist: 'Score summary' } } },
      ],
      [
        ['src.out', 'hist.in'],
        ['hist.metrics', 'report.metrics'],
        ['hist.chart', 'report.charts'],
      ],
    );
    const run = await runGraph(doc, { files });
    try {
      expect(run.outcome('report').error).toBeUndefined();
      expect(run.metrics('report', 'report')).toMatchObject({ title: 'Scores', sections: 1, charts: 1 });
      const md = readFileSync(join(run.artifact('report', 'report').dir, 'report.md'), 'utf8');
      expect(md).toContain('Score summary');
      expect(md).toContain('- count: 20');
      expect(md).toContain('- max: 0.95');
      // Only the metrics named in `keys` are reported.
      expect(md).not.toContain('mean');
      const written = readdirSync(join(run.dir, 'out')).sort();
      expect(written).toEqual(['hist.svg', 'hist.vl.json', 'report.md']);
      expect(readFileSync(join(run.dir, 'out', 'hist.svg'), 'utf8')).toMatch(/^<svg/);
      expect(readFileSync(join(run.dir, 'out', 'report.md'), 'utf8')).toContain('![hist](hist.svg)');
    } finally {
      run.close();
    }
  });

  it('refuses to run with nothing connected, naming the input', async () => {
    const run = await runGraph(graph([{ id: 'report', type: 'sink.report', params: { folder: 'out' } }]), { continueOnFailure: true });
    try {
      expect(run.outcome('report').error).toMatch(/nothing to report/);
      expect(existsSync(join(run.dir, 'out'))).toBe(false);
    } finally {
      run.close();
    }
  });
});
