/**
 * Runs the bad-input corpus in its own process so its memory can be bounded and measured:
 * started with `--max-old-space-size=1024` by security-corpus.test.ts, it writes every case's
 * outcome and this process's peak RSS (process.resourceUsage, so DuckDB's native memory and the
 * worker threads count too) as JSON to the file named by its second argument.
 *
 *   node --max-old-space-size=1024 --import tsx engine/test/corpus/run-corpus.ts <project> <result.json>
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../../composition/registry.js';
import { Engine } from '../../engine.js';
import type { ErrorLocation } from '../../graph/errors.js';
import type { GraphDocument } from '../../graph/document.js';
import { corpus } from './bad-input-cases.js';

export interface CorpusOutcome {
  name: string;
  state: string;
  error: string | null;
  location: ErrorLocation | null;
  durationMs: number;
}

export interface CorpusResult {
  outcomes: CorpusOutcome[];
  /** Peak resident set size of the whole process, in bytes. */
  maxRssBytes: number;
  heapLimitBytes: number;
}

async function main(project: string, resultFile: string): Promise<void> {
  const cases = corpus();
  const baseDir = join(project, 'resources/examples');
  for (const c of cases) writeFileSync(join(baseDir, c.file), c.content);
  const doc = { format: 'forge-graph', version: 2, seed: 1, nodes: cases.map((c, i) => ({ id: `c${i}`, ...c.node })), edges: [] } as GraphDocument;
  const engine = Engine.open(project, defaultRegistry());
  try {
    const summary = await engine.run(doc, { baseDir, trigger: 'test', continueOnFailure: true });
    const outcomes = cases.map((c, i): CorpusOutcome => {
      const n = summary.nodes.find((o) => o.nodeId === `c${i}`);
      return { name: c.name, state: n?.state ?? 'missing', error: n?.error ?? null, location: n?.location ?? null, durationMs: n?.durationMs ?? 0 };
    });
    const { getHeapStatistics } = await import('node:v8');
    const result: CorpusResult = { outcomes, maxRssBytes: process.resourceUsage().maxRSS * 1024, heapLimitBytes: getHeapStatistics().heap_size_limit };
    writeFileSync(resultFile, JSON.stringify(result));
  } finally {
    engine.close();
  }
}

const [project, resultFile] = process.argv.slice(2);
if (!project || !resultFile) {
  process.stderr.write('usage: run-corpus.ts <project> <result.json>\n');
  process.exit(2);
}
main(project, resultFile).then(
  // DuckDB and the worker pool keep handles alive: exit explicitly once the result is written.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
