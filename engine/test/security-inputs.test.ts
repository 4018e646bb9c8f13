import { closeSync, openSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { GraphLoadError } from '../graph/errors.js';
import { diagnoseJsonl, MAX_LINE_BYTES } from '../sdk/jsonl-diagnose.js';
import { expandedSize } from '../security/bounded.js';
import { cleanupTemp, openEngine, tempProject } from './helpers.js';

afterAll(cleanupTemp);

const one = (node: GraphDocument['nodes'][number]): GraphDocument => ({ format: 'forge-graph', version: 2, seed: 1, nodes: [node], edges: [] }) as GraphDocument;

async function runOne(node: GraphDocument['nodes'][number], files: Record<string, string | (() => void)> = {}) {
  const project = tempProject();
  const baseDir = join(project, 'resources/examples');
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === 'string') writeFileSync(join(baseDir, name), content);
  }
  const engine = openEngine(project);
  try {
    const s = await engine.run(one(node), { baseDir, trigger: 'test' });
    return s.nodes[0];
  } finally {
    engine.close();
  }
}

describe('hostile inputs are bounded', () => {
  it('refuses a 50 MB line by its number, scanning linearly', async () => {
    const project = tempProject();
    const file = join(project, 'long.jsonl');
    const fd = openSync(file, 'w');
    writeSync(fd, '{"text":"short"}\n{"text":"');
    const chunk = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 50; i++) writeSync(fd, chunk);
    writeSync(fd, '"}\n');
    closeSync(fd);
    const problem = await diagnoseJsonl(file, 'text');
    expect(problem).toEqual({ line: 2, message: `line 2 is longer than ${MAX_LINE_BYTES / (1 << 20)} MiB; records are at most that long` });
  });

  it('a source.jsonl with a 50 MB line fails naming the file and line', async () => {
    const project = tempProject();
    const file = join(project, 'resources/examples/long.jsonl');
    const fd = openSync(file, 'w');
    writeSync(fd, '{"text":"');
    const chunk = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; i < 50; i++) writeSync(fd, chunk);
    writeSync(fd, '"}\n');
    closeSync(fd);
    const engine = openEngine(project);
    const s = await engine.run(one({ id: 'src', type: 'source.jsonl', params: { path: 'long.jsonl' } } as GraphDocument['nodes'][number]), {
      baseDir: join(project, 'resources/examples'),
      trigger: 'test',
    });
    engine.close();
    expect(s.nodes[0]?.state).toBe('failed');
    expect(s.nodes[0]?.location).toMatchObject({ nodeId: 'src', file: 'long.jsonl', line: 1 });
  });

  it('10,000-deep nested JSON does not crash the engine', async () => {
    const deep = `{"text":"a","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}\n`;
    const n = await runOne({ id: 'src', type: 'source.jsonl', params: { path: 'deep.jsonl' } } as GraphDocument['nodes'][number], { 'deep.jsonl': deep });
    // Loaded (deep levels kept as JSON text) or refused with a message: either way, no segfault.
    expect(['executed', 'failed']).toContain(n?.state);
    if (n?.state === 'failed') expect(n.location?.file).toBe('deep.jsonl');
  });

  it('a YAML alias bomb is refused naming the file, without expanding it', async () => {
    const lines = ['openapi: 3.0.0', 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    lines.push('paths:', '  /x:', '    get:', '      summary: *a9');
    const n = await runOne({ id: 'spec', type: 'source.openapi', params: { path: 'bomb.yaml' } } as GraphDocument['nodes'][number], { 'bomb.yaml': `${lines.join('\n')}\n` });
    expect(n?.state).toBe('failed');
    expect(n?.error).toMatch(/aliases expand to more than/);
    expect(n?.location?.file).toMatch(/bomb\.yaml/);
  });

  it('expandedSize counts shared references without expanding them', () => {
    let v: unknown = ['x', 'y'];
    for (let i = 0; i < 60; i++) v = [v, v];
    expect(expandedSize(v, 1000)).toBeGreaterThan(1000);
    expect(expandedSize({ a: [1, 2, { b: 3 }] }, 1000)).toBe(6);
  });

  it('/dev/zero and other devices are refused before anything opens them', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    const doc = one({ id: 'src', type: 'source.jsonl', params: { path: '/dev/zero' } } as GraphDocument['nodes'][number]);
    const run = engine.run(doc, { baseDir: join(project, 'resources/examples'), trigger: 'test', trust: true });
    await expect(run).rejects.toThrow(GraphLoadError);
    await expect(engine.run(doc, { baseDir: join(project, 'resources/examples'), trigger: 'test', trust: true })).rejects.toThrow(/src: \/dev\/zero is a device/);
    engine.close();
  });
});

describe('graph limits', () => {
  it('caps sweep size with a clear error, raised by sweep.maxVariants', () => {
    const project = tempProject();
    const engine = openEngine(project);
    const node = (sweep: Record<string, unknown>) => one({ id: 'f', type: 'transform.sample', params: { mode: 'shuffle' }, sweep } as unknown as GraphDocument['nodes'][number]);
    const values = Array.from({ length: 100_000 }, (_, i) => i + 1);
    const big = engine.validate(node({ param: 'rows', values }));
    expect(big.graph).toBeUndefined();
    expect(big.diagnostics[0]).toMatchObject({ code: 'sweep-too-large', nodeId: 'f', field: 'sweep.values' });
    expect(big.diagnostics[0]?.message).toMatch(/100000 variants, more than 1000; set sweep\.maxVariants/);
    const raised = engine.validate(node({ param: 'rows', values: values.slice(0, 1500), maxVariants: 2000 }));
    expect(raised.diagnostics.some((d) => d.code === 'sweep-too-large')).toBe(false);
    engine.close();
  });

  it('refuses a misspelt param with "did you mean", and warns about other unknown ones', () => {
    const project = tempProject();
    const engine = openEngine(project);
    const typo = engine.validate(one({ id: 'src', type: 'source.jsonl', params: { path: 'x.jsonl', txetField: 'body' } } as GraphDocument['nodes'][number]));
    expect(typo.graph).toBeUndefined();
    expect(typo.diagnostics).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'unknown-param', nodeId: 'src', field: 'params.txetField', message: expect.stringMatching(/did you mean "textField"\?/) }),
    );
    const other = engine.validate(one({ id: 'src', type: 'source.jsonl', params: { path: 'x.jsonl', comment: 'mine' } } as GraphDocument['nodes'][number]));
    expect(other.graph).toBeDefined();
    expect(other.diagnostics).toContainEqual(expect.objectContaining({ severity: 'warning', field: 'params.comment' }));
    engine.close();
  });
});
