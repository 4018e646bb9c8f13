/**
 * A generated corpus of malformed inputs (corpus/bad-input-cases.ts), one source node per case, all
 * in one run in a child process with a 1 GiB heap (so it stays fast and its memory is measured):
 * every case must fail on its own node with an error that names the node and the file or field
 * (never an internal error), within a generous time bound, the process must stay under 1 GiB, and
 * provenance must stay consistent.
 * Then property-based fuzzing (fast-check) of the parsers a stranger's files reach.
 */
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphLoadError } from '../graph/errors.js';
import { parseGraphText } from '../graph/load.js';
import { NodeError } from '../sdk/node-error.js';
import { parseJsonFile, parseYamlFile } from '../../nodes/_sdk/files.js';
import { diagnoseJsonl } from '../sdk/jsonl-diagnose.js';
import { corpus } from './corpus/bad-input-cases.js';
import type { CorpusResult } from './corpus/run-corpus.js';
import { cleanupTemp, openEngine, REPO, tempProject } from './helpers.js';

afterAll(cleanupTemp);

/** Generous bounds, met with a wide margin even on a loaded 2-core machine (issue 9: "within seconds, under 1 GiB"). */
const CASE_BOUND_MS = 60_000;
const MEMORY_BOUND_BYTES = 1024 ** 3;
const RUNNER = join(REPO, 'engine/test/corpus/run-corpus.ts');

/** The corpus in a child process with a 1 GiB heap, so its peak memory is its own and can be measured. */
function runCorpusBounded(project: string): CorpusResult {
  const resultFile = join(project, 'corpus-result.json');
  const r = spawnSync(process.execPath, ['--max-old-space-size=1024', '--import', 'tsx', RUNNER, project, resultFile], { cwd: REPO, encoding: 'utf8', timeout: 280_000 });
  if (r.status !== 0) throw new Error(`the corpus process ended with ${r.status ?? r.signal}:\n${r.stderr.slice(-4000)}`);
  return JSON.parse(readFileSync(resultFile, 'utf8')) as CorpusResult;
}

describe('bad-input corpus', () => {
  it('every malformed input fails on its own node with an error naming the node and file or field, each within 60 s, the whole run under 1 GiB', () => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(80);
    const project = tempProject();
    const { outcomes, maxRssBytes, heapLimitBytes } = runCorpusBounded(project);
    expect(outcomes).toHaveLength(cases.length);
    const problems: string[] = [];
    for (const n of outcomes) {
      if (n.state !== 'failed') problems.push(`${n.name}: ${n.state}`);
      else if (/internal error/.test(n.error ?? '') || !n.location?.nodeId || (!n.location.file && !n.location.field))
        problems.push(`${n.name}: unclear error ${JSON.stringify(n.location)} ${n.error}`);
      if (n.durationMs > CASE_BOUND_MS) problems.push(`${n.name}: took ${Math.round(n.durationMs)} ms`);
    }
    expect(problems).toEqual([]);
    // The child really ran with the bounded heap, and its peak RSS (native DuckDB memory and worker threads included) stayed under 1 GiB.
    expect(heapLimitBytes).toBeLessThan(1.2 * MEMORY_BOUND_BYTES);
    expect(maxRssBytes).toBeGreaterThan(0);
    expect(maxRssBytes).toBeLessThan(MEMORY_BOUND_BYTES);
    console.log(`bad-input corpus: ${outcomes.length} cases, slowest ${Math.round(Math.max(...outcomes.map((o) => o.durationMs)))} ms, peak RSS ${Math.round(maxRssBytes / 2 ** 20)} MiB`);
    // A broken line is named by its number.
    expect(outcomes.find((o) => o.name === 'jsonl: bad line after 500 good')?.location?.line).toBe(501);
    const engine = openEngine(project);
    expect(engine.ws.db.integrityCheck()).toBe('ok');
    expect(engine.ws.db.db.prepare("SELECT count(*) AS n FROM executions WHERE status = 'running'").get()).toEqual({ n: 0 });
    engine.close();
  });

  it('graph documents that are not graphs are refused with a located message', () => {
    const bad = [
      '',
      'null',
      '[]',
      '{}',
      '{"format":"forge-graph"}',
      '{"format":"forge-graph","version":99,"nodes":[]}',
      '{"format":"forge-graph","version":2,"nodes":[{"id":1}]}',
      '{"format":"forge-graph","version":2,"nodes":"x"}',
      '{',
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
    ];
    for (const text of bad) expect(() => parseGraphText(text, 'g.forge.json'), text.slice(0, 40)).toThrow(GraphLoadError);
  });
});

describe('fuzzing the parsers a stranger reaches (fast-check)', () => {
  it('graph parsing either succeeds or throws a GraphLoadError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ format: 'forge-graph', version: 2, nodes: v })),
        ),
        (text) => {
          try {
            parseGraphText(text, 'fuzz.forge.json');
          } catch (err) {
            expect(err).toBeInstanceOf(GraphLoadError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('JSON and YAML file parsing either succeeds or throws a NodeError naming the file', async () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseJsonFile(text, 'fuzz.json');
        } catch (err) {
          expect(err).toBeInstanceOf(NodeError);
          expect((err as NodeError).location.file).toBe('fuzz.json');
        }
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), async (text) => {
        try {
          await parseYamlFile(text, 'fuzz.yaml');
        } catch (err) {
          expect(err).toBeInstanceOf(NodeError);
          expect((err as NodeError).location.file).toBe('fuzz.yaml');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('JSONL diagnosis of arbitrary bytes returns a located problem or nothing, never throws', async () => {
    const project = tempProject();
    const file = join(project, 'fuzz.jsonl');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(undefined, 'text'), async (bytes, field) => {
        writeFileSync(file, bytes);
        const p = await diagnoseJsonl(file, field);
        if (p) {
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
