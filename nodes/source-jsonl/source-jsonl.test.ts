import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const FILE = '{"text": "alpha", "source": "crawl-a"}\n{"text": "beta"}\n{"text": "gamma", "source": "crawl-b"}\n';

describe('source.jsonl source column', () => {
  it('keeps a source field of the records; records without one get the file name', async () => {
    const run = await runGraph(graph([{ id: 'in', type: 'source.jsonl', params: { path: 'docs.jsonl' } }]), { files: { 'docs.jsonl': FILE } });
    try {
      expect(run.outcome('in').error).toBeUndefined();
      const rows = await run.rows('in');
      expect(rows.map((r) => r.source)).toEqual(['crawl-a', 'docs', 'crawl-b']);
    } finally {
      run.close();
    }
  });

  it('an explicit source name replaces every record’s source', async () => {
    const run = await runGraph(graph([{ id: 'in', type: 'source.jsonl', params: { path: 'docs.jsonl', source: 'mine' } }]), { files: { 'docs.jsonl': FILE } });
    try {
      const rows = await run.rows('in');
      expect(rows.map((r) => r.source)).toEqual(['mine', 'mine', 'mine']);
    } finally {
      run.close();
    }
  });
});
