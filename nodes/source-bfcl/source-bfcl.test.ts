import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry.js';
import { NODE_TYPES } from '../index.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, TOKENIZER } from '../_sdk/testing/graph.js';
import { answerTurns, callsFromGroundTruth, parseItems, renderItem } from './bfcl.js';
import bfcl from './index.js';

const registry = new NodeRegistry(NODE_TYPES.some((t) => t.type === bfcl.type) ? NODE_TYPES : [...NODE_TYPES, bfcl]);
const BFCL = join(DATASETS, 'agent/bfcl');
afterEach(cleanupTempDirs);
afterAll(closeExecutor);

describe('BFCL rendering', () => {
  it('turns ground truth into calls, leaving out optional args', () => {
    expect(callsFromGroundTruth([{ calculate_triangle_area: { base: [10], height: [5], unit: ['units', ''] } }])).toEqual(["calculate_triangle_area(base=10, height=5, unit='units')"]);
    expect(callsFromGroundTruth([{ 'math.hypot': { x: [4], y: [5], z: ['', 0] } }])).toEqual(['math.hypot(x=4, y=5)']);
    expect(answerTurns([['cd(folder="a")'], ['ls()']])).toEqual([['cd(folder="a")'], ['ls()']]);
  });

  it('renders tools, the user turn and the assistant call', () => {
    const [item] = parseItems(
      JSON.stringify({
        id: 'x_0',
        question: [[{ role: 'user', content: 'Area of a 10 by 5 triangle?' }]],
        function: [{ name: 'area', parameters: { type: 'dict', properties: { b: { type: 'integer' } }, required: ['b'] } }],
      }),
    );
    const text = renderItem(item?.functions ?? [], item?.turns ?? [], [{ area: { b: [10] } }], { functionFormat: 'signature', withAnswers: true });
    expect(text).toBe('Tools:\narea(b: integer)\nUser: Area of a 10 by 5 triangle?\nAssistant: area(b=10)');
  });
});

describe('source.bfcl node', () => {
  it('loads real BFCL files joined with possible_answer, multi-turn docs included', async () => {
    const run = await runGraph(graph([{ id: 'bfcl', type: 'source.bfcl', params: { path: BFCL, include: 'BFCL_v4_{simple_python,irrelevance,multi_turn_base}.json', tokenizer: TOKENIZER } }]), {
      registry,
    });
    try {
      expect(run.outcome('bfcl').error).toBeUndefined();
      const meta = run.artifact('bfcl', 'out').manifest.meta;
      expect(meta['documents.simple_python']).toBe(400);
      expect(meta['documents.irrelevance']).toBe(240);
      expect(meta['documents.multi_turn_base']).toBe(200);
      expect(meta.documents).toBe(840);
      expect(meta.with_answer).toBe(600);
      expect(Number(meta.tokens)).toBeGreaterThan(100_000);
      const rows = await run.rows('bfcl');
      const first = rows.find((r) => r.id === 'simple_python_0');
      expect(first?.text).toContain('User: Find the area of a triangle with a base of 10 units and height of 5 units.');
      expect(first?.text).toContain("Assistant: calculate_triangle_area(base=10, height=5, unit='units')");
      const mt = rows.find((r) => r.id === 'multi_turn_base_0');
      expect(Number(mt?.turns)).toBe(4);
      expect(String(mt?.function_names)).toContain('mkdir');
      expect(String(mt?.function_names)).not.toMatch(/(^|,)cp(,|$)/); // excluded_function
      expect(mt?.text).toContain("Assistant: cd(folder='document'); mkdir(dir_name='temp'); mv(source='final_report.pdf', destination='temp')");
      expect(rows.find((r) => r.id === 'irrelevance_0')?.has_answer).toBe(false);
      expect(rows.reduce((a, r) => a + Number(r.tokens), 0)).toBe(meta.tokens);
    } finally {
      run.close();
    }
  });

  it('BFCL lines missing fields fail with file, line and field; nothing published', async () => {
    const good = JSON.stringify({ id: 'simple_0', question: [[{ role: 'user', content: 'hi' }]], function: [{ name: 'f' }] });
    const cases: [string, string, number, string][] = [
      [`${good}\n${JSON.stringify({ id: 'simple_1', function: [{ name: 'f' }] })}\n`, 'question', 2, 'missing field "question"'],
      [`${good}\n\n${JSON.stringify({ id: 'simple_2', question: [[{ role: 'user', content: 'x' }]] })}\n`, 'function', 3, 'missing field "function"'],
      [`${JSON.stringify({ question: [], function: [] })}\n`, 'id', 1, 'missing field "id"'],
      [`${good}\n${JSON.stringify({ id: 'simple_3', question: [[{ role: 'user' }]], function: [] })}\n`, 'question[0][0]', 2, 'needs "role" and "content"'],
    ];
    for (const [content, field, line, message] of cases) {
      const run = await runGraph(graph([{ id: 'bfcl', type: 'source.bfcl', params: { path: 'BFCL_v4_simple.json' } }]), { registry, files: { 'BFCL_v4_simple.json': content } });
      try {
        const o = run.outcome('bfcl');
        expect(o.state).toBe('failed');
        expect(o.error).toContain(message);
        expect(o.location).toMatchObject({ nodeId: 'bfcl', file: 'BFCL_v4_simple.json', line, field });
        expect(o.outputs).toEqual([]);
        expect(run.stagingLeft()).toEqual([]);
      } finally {
        run.close();
      }
    }
  });
});
