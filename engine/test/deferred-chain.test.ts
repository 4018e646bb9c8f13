// Deferred datasets (engine/sdk/deferred.ts): source.jsonl → transform.filter → sink.write runs as
// one pass in the sink, and must give what writing every dataset gives, with the same errors.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { planGraph } from '../exec/plan.js';
import { deferredInstances } from '../exec/deferral.js';
import { planInstances } from '../exec/planner.js';
import { Engine } from '../engine.js';
import { validateGraph } from '../graph/validate.js';
import { DEFERRED_FILE, DEFERRED_FORMAT, isDeferred } from '../sdk/deferred.js';
import { usableArtifact } from '../security/artifact-check.js';
import type { GraphDocument } from '../graph/document.js';
import { cleanupTempDirs, closeExecutor, graph, sharedExecutor, tempDir, writeFiles } from '../../nodes/_sdk/testing/graph.js';
import { defaultRegistry } from '../../composition/registry.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const records = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, text: `record ${i} ${'é✓ '.repeat(i % 5)}`, score: (i * 37) % 100, meta: { n: i } }));
const jsonl = (rs: object[], extra = '') => rs.map((r) => JSON.stringify(r)).join('\n') + '\n' + extra;

/**
 * Runs `fn` with the file read whole (one slice: one query with a window numbering ids) and with
 * slices of 7 lines (40 records: 6 parts, each copied to a slice file and read on a lane of its own).
 */
async function eachSliceSize(fn: (parts: number) => Promise<void>): Promise<void> {
  for (const rows of [undefined, '7']) {
    if (rows) process.env.FORGE_SHARD_ROWS = rows;
    try {
      await fn(rows ? 6 : 1);
    } finally {
      delete process.env.FORGE_SHARD_ROWS;
    }
  }
}

function chain(source: Record<string, unknown> = {}, where = 'score >= 50', out = 'out.jsonl', format: 'jsonl' | 'parquet' = 'jsonl'): GraphDocument {
  return graph(
    [
      { id: 'load', type: 'source.jsonl', params: { path: 'in.jsonl', ...source } },
      { id: 'keep', type: 'transform.filter', params: { where } },
      { id: 'write', type: 'sink.write', params: { path: out, format } },
    ],
    [
      ['load.out', 'keep.in'],
      ['keep.out', 'write.in'],
    ],
  );
}

async function run(dir: string, doc: GraphDocument, opts: { defer?: boolean; mode?: 'all' | 'node'; target?: string } = {}) {
  const engine = Engine.open(dir, defaultRegistry());
  try {
    const summary = await engine.run(doc, { baseDir: dir, trigger: 'test', executor: sharedExecutor(), ...opts });
    const node = (id: string) => summary.nodes.find((n) => n.nodeId === id) ?? expect.fail(`no ${id}`);
    const deferredOut = (id: string) => node(id).outputs.map((o) => isDeferred(engine.ws.store.ref(o.hash)));
    const logged = new Map(summary.nodes.map((n) => [n.nodeId, (engine.ws.queries.execution(n.executionId ?? '')?.logs ?? []).join('\n')]));
    const deferredOf = new Map(summary.nodes.map((n) => [n.nodeId, deferredOut(n.nodeId)]));
    return { summary, node, deferredOut: (id: string) => deferredOf.get(id), logs: (id: string) => logged.get(id) };
  } finally {
    engine.close();
  }
}

/** The same graph written dataset by dataset, in a workspace of its own. */
async function writtenOutput(files: Record<string, string>, doc: GraphDocument): Promise<{ file: string; error?: string }> {
  const dir = tempDir();
  writeFiles(dir, files);
  const r = await run(dir, doc, { defer: false });
  if (r.summary.status === 'succeeded') expect(r.deferredOut('keep')).toEqual([false, false]);
  const failed = r.summary.nodes.find((n) => n.state === 'failed');
  return { file: existsSync(join(dir, 'out.jsonl')) ? readFileSync(join(dir, 'out.jsonl'), 'utf8') : '', error: failed?.error };
}

describe('a deferred chain: source.jsonl → transform.filter → sink.write', () => {
  it('writes the bytes and row count the written path writes, without writing the source or the kept rows', async () => {
    await eachSliceSize(async (parts) => {
      const files = { 'in.jsonl': jsonl(records) };
      const dir = tempDir();
      writeFiles(dir, files);
      const r = await run(dir, chain());
      expect(r.summary.status).toBe('succeeded');
      expect(r.deferredOut('load')).toEqual([true]);
      expect(r.deferredOut('keep')).toEqual([true, true]);
      expect(r.logs('write')).toContain(`computed source.jsonl → transform.filter → this node in one pass over ${parts} part(s)`);
      const out = readFileSync(join(dir, 'out.jsonl'), 'utf8');
      const kept = records.filter((x) => x.score >= 50).length;
      expect(out.trim().split('\n')).toHaveLength(kept);
      expect(JSON.parse(out.split('\n')[0] as string)).toMatchObject({ id: `in:${records.findIndex((x) => x.score >= 50) + 1}`, source: 'in' });
      expect(out).toBe((await writtenOutput(files, chain())).file);
      expect(readdirSync(dir).filter((f) => f.includes('forge-tmp'))).toEqual([]);
      const engine = Engine.open(dir, defaultRegistry());
      const report = engine.ws.store.ref(r.node('write').outputs[0]?.hash as string);
      expect(report.manifest.meta).toMatchObject({ rows: kept });
      engine.close();
    });
  });

  it('numbers ids across slices cut by size (uneven line counts) as the written path does', async () => {
    // ~60-byte records: slices of at most 7 lines, or fewer once a slice reaches 150 bytes.
    process.env.FORGE_SHARD_ROWS = '7';
    process.env.FORGE_SLICE_MAX_BYTES = '150';
    try {
      const files = { 'in.jsonl': jsonl(records) };
      const dir = tempDir();
      writeFiles(dir, files);
      const r = await run(dir, chain({}, 'score >= 0'));
      expect(r.summary.status).toBe('succeeded');
      const parts = Number(/one pass over (\d+) part/.exec(r.logs('write') ?? '')?.[1]);
      expect(parts).toBeGreaterThan(40 / 7 + 1);
      const out = readFileSync(join(dir, 'out.jsonl'), 'utf8');
      expect(
        out
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { id: string }).id),
      ).toEqual(records.map((_, i) => `in:${i + 1}`));
      expect(out).toBe((await writtenOutput(files, chain({}, 'score >= 0'))).file);
    } finally {
      delete process.env.FORGE_SHARD_ROWS;
      delete process.env.FORGE_SLICE_MAX_BYTES;
    }
  });

  it('gives the written path’s bytes for ids from a field (slices), blank lines and a JSON array (no lines to slice)', async () => {
    process.env.FORGE_SHARD_ROWS = '7';
    try {
      const cases: [string, Record<string, unknown>][] = [
        [jsonl(records), { idField: 'key' }],
        [jsonl(records.slice(0, 20)) + '\n  \n' + jsonl(records.slice(20)), { idField: 'key' }],
        [jsonl(records.slice(0, 20)) + '\n' + jsonl(records.slice(20)), {}],
        [JSON.stringify(records, null, 1), { format: 'auto' }],
      ];
      for (const [content, params] of cases) {
        const dir = tempDir();
        writeFiles(dir, { 'in.jsonl': content });
        const r = await run(dir, chain(params));
        expect(r.summary.status, JSON.stringify(params)).toBe('succeeded');
        expect(r.deferredOut('keep')).toEqual([true, true]);
        expect(readFileSync(join(dir, 'out.jsonl'), 'utf8')).toBe((await writtenOutput({ 'in.jsonl': content }, chain(params))).file);
      }
    } finally {
      delete process.env.FORGE_SHARD_ROWS;
    }
  });

  it('writes a Parquet file with the bytes of the written path, from one part or from several', async () => {
    await eachSliceSize(async (parts) => {
      for (const source of [{}, { idField: 'key' }]) {
        const doc = chain(source, 'score >= 50', 'out.parquet', 'parquet');
        const files = { 'in.jsonl': jsonl(records) };
        const dir = tempDir();
        writeFiles(dir, files);
        const r = await run(dir, doc);
        expect(r.deferredOut('keep')).toEqual([true, true]);
        expect(r.logs('write')).toContain(`over ${parts} part(s)`);
        const other = tempDir();
        writeFiles(other, files);
        const w = await run(other, doc, { defer: false });
        expect(w.deferredOut('keep')).toEqual([false, false]);
        expect(readFileSync(join(dir, 'out.parquet')).equals(readFileSync(join(other, 'out.parquet'))), JSON.stringify(source)).toBe(true);
      }
    });
  });

  it('computes a filter over a written dataset shard by shard on parallel lanes and joins the parts in order', async () => {
    process.env.FORGE_SHARD_ROWS = '6';
    try {
      const csv = 'key,text,score\n' + records.map((x) => `${x.key},"${x.text}",${x.score}`).join('\n') + '\n';
      const doc = chain();
      doc.nodes[0] = { ...(doc.nodes[0] as GraphDocument['nodes'][number]), type: 'source.csv', params: { path: 'in.csv', idField: 'key' } };
      const dir = tempDir();
      writeFiles(dir, { 'in.csv': csv });
      const r = await run(dir, doc);
      expect(r.deferredOut('load')).toEqual([false]);
      expect(r.deferredOut('keep')).toEqual([true, true]);
      expect(r.logs('write')).toMatch(/computed a written dataset → transform\.filter → this node in one pass over 7 part\(s\)/);
      expect(readFileSync(join(dir, 'out.jsonl'), 'utf8')).toBe((await writtenOutput({ 'in.csv': csv }, doc)).file);
    } finally {
      delete process.env.FORGE_SHARD_ROWS;
    }
  });

  it('reuses every node on a second run, reruns the chain when the file changes, and writes the kept rows when the filter runs on its own', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'in.jsonl': jsonl(records) });
    const first = await run(dir, chain());
    const again = await run(dir, chain());
    expect(again.summary.nodes.map((n) => n.state)).toEqual(['cached', 'cached', 'cached']);
    const engine = Engine.open(dir, defaultRegistry());
    const plan = await planGraph(engine.ws, engine.registry, validateGraph(chain(), engine.registry).graph as never, { baseDir: dir });
    expect(plan.nodes.map((n) => n.action)).toEqual(['cached', 'cached', 'cached']);
    expect(plan.nodes.map((n) => n.reusedExecutionId)).toEqual(first.summary.nodes.map((n) => n.executionId));
    // The source's recipe gone from the store: the source makes it again (the same hash), so the
    // filter's recipe, which names it, is whole again, and the filter and the sink stay cached.
    rmSync(engine.ws.store.pathOf(first.node('load').outputs[0]?.hash as string), { recursive: true });
    engine.close();
    const remade = await run(dir, chain());
    expect(remade.summary.nodes.map((n) => n.state)).toEqual(['executed', 'cached', 'cached']);
    expect(remade.node('load').outputs).toEqual(first.node('load').outputs);
    expect(remade.node('keep').outputs).toEqual(first.node('keep').outputs);

    writeFiles(dir, { 'in.jsonl': jsonl(records.slice(1)) });
    const changed = await run(dir, chain());
    expect(changed.summary.nodes.map((n) => n.state)).toEqual(['executed', 'executed', 'executed']);
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n')).toHaveLength(records.slice(1).filter((x) => x.score >= 50).length);

    // Run node on the filter: its consumer is not in the run, so it writes its rows.
    const alone = await run(dir, chain(), { mode: 'node', target: 'keep' });
    expect(alone.deferredOut('keep')).toEqual([false, false]);
    const store = Engine.open(dir, defaultRegistry());
    const kept = store.ws.store.ref(alone.node('keep').outputs[0]?.hash as string);
    expect(kept.manifest.rows).toBe(records.slice(1).filter((x) => x.score >= 50).length);
    store.close();
  });

  it('fails as the written path does on a record without text, naming source.jsonl, the file and the line', async () => {
    await eachSliceSize(async (parts) => {
      const bad = [...records.slice(0, 5), { key: 'x', score: 10 }, ...records.slice(5)];
      const files = { 'in.jsonl': jsonl(bad) };
      const dir = tempDir();
      writeFiles(dir, files);
      const r = await run(dir, chain());
      const write = r.node('write');
      expect(write.state, `${parts} part(s)`).toBe('failed');
      // The record has score 10: the filter drops it, but the check sees every record.
      expect(write.error).toMatch(/^source\.jsonl \(computed in this node's pass, not written\): /);
      expect(write.location).toMatchObject({ nodeId: 'write', file: 'in.jsonl', line: 6 });
      const written = await writtenOutput(files, chain());
      expect(write.error).toContain(written.error);
      expect(existsSync(join(dir, 'out.jsonl'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('forge-tmp'))).toEqual([]);
    });
  });

  it('fails as the written path does on a line that is not JSON or holds two records, naming its line, with and without an id field', async () => {
    for (const broken of ['{"key": "broken", "text": "no end', '{"key": "a", "text": "one"} {"key": "b", "text": "two"}']) {
      const lines = jsonl(records).split('\n');
      lines.splice(12, 0, broken);
      const files = { 'in.jsonl': lines.join('\n') };
      await eachSliceSize(async (parts) => {
        for (const source of [{}, { idField: 'key' }]) {
          const dir = tempDir();
          writeFiles(dir, files);
          const write = (await run(dir, chain(source))).node('write');
          expect(write.state).toBe('failed');
          expect(write.location, JSON.stringify({ source, parts, broken })).toMatchObject({ nodeId: 'write', file: 'in.jsonl', line: 13 });
          expect(write.error).toContain((await writtenOutput(files, chain(source))).error);
          expect(readdirSync(dir).filter((f) => f.startsWith('out') || f.includes('forge-tmp'))).toEqual([]);
        }
      });
    }
  });

  it('names the chain when the filter’s expression fails on the data in the sink’s pass', async () => {
    await eachSliceSize(async () => {
      const dir = tempDir();
      writeFiles(dir, { 'in.jsonl': jsonl(records) });
      const write = (await run(dir, chain({}, 'CAST(text AS INTEGER) > 0'))).node('write');
      expect(write.state).toBe('failed');
      expect(write.error).toMatch(/^source\.jsonl → transform\.filter \(computed in this node's pass, not written\) failed: Conversion Error/);
      expect(write.location).toMatchObject({ nodeId: 'write', field: 'inputs.in' });
      expect(readdirSync(dir).filter((f) => f.startsWith('out') || f.includes('forge-tmp'))).toEqual([]);
    });
  });

  it('keeps the filter’s SQL confined in the sink’s pass: it cannot read a file beside the input', async () => {
    await eachSliceSize(async () => {
      const dir = tempDir();
      writeFiles(dir, { 'in.jsonl': jsonl(records), 'secret.txt': 'top secret' });
      const r = await run(dir, chain({}, `length((SELECT content FROM read_text('${join(dir, 'secret.txt')}'))) > 0`));
      expect(r.node('write').state).toBe('failed');
      expect(r.node('write').error).toMatch(/transform\.filter .*(disabled by configuration|Permission)/);
      expect(existsSync(join(dir, 'out.jsonl'))).toBe(false);
    });
  });
});

describe('a cached recipe', () => {
  it('is not reused when an input it names is gone from the store', async () => {
    const dir = tempDir();
    const engine = Engine.open(dir, defaultRegistry());
    try {
      const publish = async (inputs: Record<string, string>, port: string) => {
        const staging = engine.ws.store.createStaging(`t-${port}`, port);
        const recipe = { format: DEFERRED_FORMAT, nodeType: 'transform.filter', nodeVersion: 1, codeHash: 'sha256:x', port, params: { where: 'true' }, seed: 0, files: [], inputs };
        writeFileSync(join(staging, DEFERRED_FILE), JSON.stringify(recipe));
        return (await engine.ws.store.publish(staging, { kind: 'dataset', meta: { deferred: true } })).hash;
      };
      const upstream = await publish({}, 'up');
      const recipe = await publish({ in: upstream }, 'out');
      const warnings: string[] = [];
      expect(usableArtifact(engine.ws, recipe, dir, (m) => warnings.push(m))).toBe(true);
      rmSync(engine.ws.store.pathOf(upstream), { recursive: true });
      expect(usableArtifact(engine.ws, recipe, dir, (m) => warnings.push(m))).toBe(false);
      expect(warnings).toEqual([expect.stringMatching(/names input sha256:\w+, which is gone from the store/)]);
    } finally {
      engine.close();
    }
  });
});

describe('which nodes are deferred', () => {
  const deferred = (doc: GraphDocument) => {
    const registry = defaultRegistry();
    return [...deferredInstances(planInstances(validateGraph(doc, registry).graph as never, registry, { defer: true }))].sort();
  };

  it('defers a chain up to a consumer that computes it, and nothing with two consumers, a consumer that cannot or a bypass', () => {
    expect(deferred(chain())).toEqual(['keep', 'load']);
    expect(deferred(chain({}, 'true', 'out.parquet', 'parquet'))).toEqual(['keep', 'load']);
    const table = chain();
    table.nodes[2] = { id: 'write', type: 'view.table', params: {}, position: { x: 0, y: 0 } } as never;
    expect(deferred(table)).toEqual([]);
    const twice = chain();
    twice.nodes.push({ id: 'view', type: 'view.table', params: {}, position: { x: 0, y: 0 } } as never);
    twice.edges.push({ from: { node: 'keep', port: 'out' }, to: { node: 'view', port: 'in' } });
    expect(deferred(twice)).toEqual([]);
    const bypassed = chain();
    (bypassed.nodes[1] as { bypass?: boolean }).bypass = true;
    expect(deferred(bypassed)).toEqual([]);
  });
});
