import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GraphDocument, GraphNode } from '../graph/document.js';
import { parseGraphText } from '../graph/load.js';
import { cachedNodes, cleanupTemp, executedNodes, openEngine, outputHashes, QUICKSTART, readDoc, tempProject, writeDoc } from './helpers.js';

afterEach(cleanupTemp);

const GROUPED = 'resources/examples/quickstart-grouped.forge.json';
const INNER = ['substantial', 'mix', 'shuffle'];

/** The quickstart with filter → mix → shuffle grouped into one subgraph "prep", as the canvas groups them. */
function grouped(doc: GraphDocument, as: 'embedded' | 'component' = 'embedded'): { doc: GraphDocument; component: GraphDocument } {
  const inner = doc.nodes.filter((n) => INNER.includes(n.id));
  const innerEdges = doc.edges.filter((e) => INNER.includes(e.from.node) && INNER.includes(e.to.node));
  const inputs = { docs: { kind: 'dataset', to: [{ node: 'substantial', port: 'in' }] }, prose: { kind: 'dataset', to: [{ node: 'mix', port: 'b' }] } };
  const outputs = { out: { kind: 'dataset', from: { node: 'shuffle', port: 'out' } } };
  const component: GraphDocument = { format: 'forge-graph', version: 3, seed: 0, name: 'prep', nodes: inner, edges: innerEdges, inputs, outputs };
  const prep: GraphNode = {
    id: 'prep',
    type: 'subgraph',
    params: {},
    subgraph: as === 'embedded' ? { nodes: inner, edges: innerEdges, inputs, outputs } : { component: 'components/prep.forge.json' },
  };
  return {
    component,
    doc: {
      ...doc,
      nodes: [...doc.nodes.filter((n) => !INNER.includes(n.id)), prep],
      edges: [
        { from: { node: 'api_docs', port: 'out' }, to: { node: 'prep', port: 'docs' } },
        { from: { node: 'prose', port: 'out' }, to: { node: 'prep', port: 'prose' } },
        { from: { node: 'prep', port: 'out' }, to: { node: 'split', port: 'in' } },
        ...doc.edges.filter((e) => !INNER.includes(e.from.node) && !INNER.includes(e.to.node)),
      ],
    },
  };
}

/** Output hashes keyed by the node id a user knows (the inner id without its subgraph prefix). */
const unprefixed = (hashes: Record<string, string>) => Object.fromEntries(Object.entries(hashes).map(([k, v]) => [k.replace(/^prep\//, ''), v]));

describe('subgraphs', () => {
  it('a grouped graph produces the same artifact hashes as the ungrouped one, and a rerun is fully cached', async () => {
    const plain = tempProject();
    const other = tempProject();
    const e1 = openEngine(plain);
    const e2 = openEngine(other);
    try {
      const base = readDoc(plain);
      const ungroupedRun = await e1.run(base, { file: join(plain, QUICKSTART), baseDir: join(plain, 'resources/examples'), trigger: 'test' });
      const ungrouped = outputHashes(e1, ungroupedRun.runId);
      expect(Object.keys(ungrouped)).toContain('shuffle.out');

      // A separate workspace: the grouped graph computes everything itself and lands on the same hashes.
      const { doc } = grouped(readDoc(other));
      writeDoc(other, GROUPED, doc);
      const { doc: loaded, file, baseDir } = e2.loadFile(join(other, GROUPED));
      const first = await e2.run(loaded, { file, baseDir, trigger: 'test' });
      expect(executedNodes(e2, first.runId)).toEqual(['api_docs', 'prep/mix', 'prep/shuffle', 'prep/substantial', 'prose', 'split', 'write_train']);
      expect(unprefixed(outputHashes(e2, first.runId))).toEqual(ungrouped);

      const rerun = await e2.run(loaded, { file, baseDir, trigger: 'test' });
      expect(executedNodes(e2, rerun.runId)).toEqual([]);
      expect(cachedNodes(e2, rerun.runId)).toHaveLength(7);

      // And in the first workspace the grouped graph reuses every execution of the ungrouped one.
      writeDoc(plain, GROUPED, doc);
      const reuse = await e1.run(e1.loadFile(join(plain, GROUPED)).doc, { file: join(plain, GROUPED), baseDir: join(plain, 'resources/examples'), trigger: 'test' });
      expect(executedNodes(e1, reuse.runId)).toEqual([]);
      expect(cachedNodes(e1, reuse.runId)).toContain('prep/shuffle');
    } finally {
      e1.close();
      e2.close();
    }
  });

  it('a library component plans to the same cache keys as the embedded subgraph, and forge plan lists inner nodes', async () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const embedded = grouped(readDoc(project));
      const viaComponent = grouped(readDoc(project), 'component');
      mkdirSync(join(project, 'components'));
      writeFileSync(join(project, 'components/prep.forge.json'), JSON.stringify(viaComponent.component));
      const baseDir = join(project, 'resources/examples');
      await engine.run(readDoc(project), { baseDir, trigger: 'test' });
      const a = await engine.plan(embedded.doc, { baseDir });
      const b = await engine.plan(viaComponent.doc, { baseDir });
      const keys = (p: typeof a) => Object.fromEntries(p.nodes.map((n) => [n.nodeId, n.cacheKey]));
      expect(keys(b)).toEqual(keys(a));
      expect(Object.keys(keys(a)).sort()).toEqual(['api_docs', 'prep/mix', 'prep/shuffle', 'prep/substantial', 'prose', 'split', 'write_train']);
      expect(b.nodes.every((n) => n.action === 'cached')).toBe(true);
    } finally {
      engine.close();
    }
  });

  it('names the subgraph and the inner node in validation errors', () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const { doc } = grouped(readDoc(project));
      const prep = doc.nodes.find((n) => n.id === 'prep');
      const inner = prep?.subgraph?.nodes?.find((n) => n.id === 'substantial');
      if (!inner) throw new Error('fixture changed');
      inner.params = { where: 42 };
      const bad = engine.validate(doc).diagnostics.filter((d) => d.severity === 'error');
      expect(bad).toEqual([expect.objectContaining({ code: 'invalid-params', nodeId: 'prep/substantial', message: expect.stringContaining('in subgraph "prep", node "substantial"') })]);

      // An interface that points at a node the subgraph does not have.
      const { doc: doc2 } = grouped(readDoc(project));
      const prep2 = doc2.nodes.find((n) => n.id === 'prep');
      if (!prep2?.subgraph?.outputs?.out) throw new Error('fixture changed');
      prep2.subgraph.outputs.out.from = { node: 'shufle', port: 'out' };
      const missing = engine.validate(doc2).diagnostics.filter((d) => d.severity === 'error');
      expect(missing[0]).toMatchObject({ code: 'subgraph-port', nodeId: 'prep', message: expect.stringContaining('inner node "shufle" is not in the subgraph') });

      // A declared kind that is not the inner port's kind.
      const { doc: doc3 } = grouped(readDoc(project));
      const prep3 = doc3.nodes.find((n) => n.id === 'prep');
      if (!prep3?.subgraph?.inputs?.docs) throw new Error('fixture changed');
      prep3.subgraph.inputs.docs.kind = 'metrics';
      expect(engine.validate(doc3).diagnostics).toContainEqual(
        expect.objectContaining({ code: 'kind-mismatch', nodeId: 'prep', message: expect.stringContaining('declared metrics, but inner node "substantial" input "in" is dataset') }),
      );

      // An outer edge into a port the subgraph does not expose.
      const { doc: doc4 } = grouped(readDoc(project));
      doc4.edges[0] = { from: { node: 'api_docs', port: 'out' }, to: { node: 'prep', port: 'nope' } };
      expect(engine.validate(doc4).diagnostics).toContainEqual(
        expect.objectContaining({ code: 'unknown-port', nodeId: 'prep', message: expect.stringContaining('subgraph "prep" has no input "nope" (inputs: docs, prose)') }),
      );
    } finally {
      engine.close();
    }
  });

  it('confines components to the workspace and refuses a component that uses itself', () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      const use = (component: string): GraphDocument => ({ format: 'forge-graph', version: 3, seed: 0, nodes: [{ id: 'lib', type: 'subgraph', params: {}, subgraph: { component } }], edges: [] });
      const outside = engine.validate(use('../outside.forge.json')).diagnostics;
      expect(outside).toEqual([expect.objectContaining({ code: 'component-unavailable', nodeId: 'lib', message: expect.stringContaining('outside the workspace') })]);
      const absent = engine.validate(use('components/none.forge.json')).diagnostics;
      expect(absent).toEqual([expect.objectContaining({ code: 'component-unavailable', message: expect.stringContaining('no such file') })]);

      mkdirSync(join(project, 'components'));
      const loop: GraphDocument = {
        format: 'forge-graph',
        version: 3,
        seed: 0,
        nodes: [{ id: 'again', type: 'subgraph', params: {}, subgraph: { component: 'components/loop.forge.json' } }],
        edges: [],
      };
      writeFileSync(join(project, 'components/loop.forge.json'), JSON.stringify(loop));
      const cycle = engine.validate(use('components/loop.forge.json')).diagnostics;
      expect(cycle).toEqual([expect.objectContaining({ code: 'subgraph-cycle', nodeId: 'lib/again', message: expect.stringContaining('uses itself') })]);
    } finally {
      engine.close();
    }
  });

  it('migrates a version 2 document unchanged and says so', () => {
    const project = tempProject();
    const engine = openEngine(project);
    try {
      // The quickstart as saved before format 3 (the bundled examples are saved at 3 now).
      const text = JSON.stringify({ ...readDoc(project), version: 2 });
      const doc = parseGraphText(text);
      expect(doc.version).toBe(3);
      expect(doc.migratedFrom).toBe(2);
      const original = JSON.parse(text) as GraphDocument;
      expect(doc.nodes).toEqual(original.nodes);
      expect(doc.edges).toEqual(original.edges);
      expect(engine.validate(doc).diagnostics).toEqual([
        expect.objectContaining({ severity: 'warning', code: 'migrated-format', message: expect.stringContaining('from graph format version 2 to 3') }),
      ]);
      // A current document carries no such note.
      expect(parseGraphText(JSON.stringify({ ...original, version: 3 })).migratedFrom).toBeUndefined();
    } finally {
      engine.close();
    }
  });
});
