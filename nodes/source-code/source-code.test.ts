import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry.js';
import { NODE_TYPES } from '../index.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph } from '../_sdk/testing/graph.js';
import code from './index.js';

const registry = new NodeRegistry(NODE_TYPES.some((t) => t.type === code.type) ? NODE_TYPES : [...NODE_TYPES, code]);
afterEach(cleanupTempDirs);
afterAll(closeExecutor);

describe('source.code node', () => {
  it('loads files by glob with language, lines and tokens; skips binary, oversized and excluded files', async () => {
    const run = await runGraph(graph([{ id: 'code', type: 'source.code', params: { pattern: 'repo/**/*.{py,ts,bin}', maxBytes: 200, pathHeader: true } }]), {
      registry,
      files: {
        'repo/a.py': 'def add(a, b):\n    return a + b\n',
        'repo/src/b.ts': 'export const x = 1;\n',
        'repo/big.py': `# ${'x'.repeat(300)}\n`,
        'repo/blob.bin': 'abc\u0000def',
        'repo/node_modules/dep/c.ts': 'ignored\n',
      },
    });
    try {
      expect(run.outcome('code').error).toBeUndefined();
      const rows = await run.rows('code');
      expect(rows.map((r) => [r.id, r.language, r.lines, r.tokens])).toEqual([
        ['repo/a.py', 'python', '2', '20'],
        ['repo/src/b.ts', 'typescript', '1', '16'],
      ]);
      expect(rows[0]?.text).toBe('# file: repo/a.py\ndef add(a, b):\n    return a + b\n');
      const meta = run.artifact('code', 'out').manifest.meta;
      expect(meta).toMatchObject({ documents: 2, tokens: 36, skipped_too_big: 1, skipped_binary: 1, 'documents.python': 1 });
    } finally {
      run.close();
    }
  });
});
