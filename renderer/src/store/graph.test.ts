import { describe, expect, it } from 'vitest';
import type { GraphDocument } from '../api/types';
import { info, TYPE_MAP } from './fixtures.test-helpers';
import { codeNodes, createGraphStore, docToFlow, flowToDoc, freeSpot } from './graph';

function store(clock = { t: 0 }) {
  return createGraphStore({ types: () => TYPE_MAP, now: () => clock.t });
}

/** src → filter → sample, built through the store's own actions. */
function chain(s: ReturnType<typeof store>) {
  const g = () => s.getState();
  const src = g().addNode(info('source.jsonl'), { x: 0, y: 0 });
  const filter = g().addNode(info('transform.filter'), { x: 300, y: 0 });
  const sample = g().addNode(info('transform.sample'), { x: 600, y: 0 });
  expect(g().connect({ source: src, sourceHandle: 'out', target: filter, targetHandle: 'in' }).ok).toBe(true);
  expect(g().connect({ source: filter, sourceHandle: 'out', target: sample, targetHandle: 'in' }).ok).toBe(true);
  return { src, filter, sample };
}

const snapshot = (s: ReturnType<typeof store>) => JSON.stringify(s.getState().toDocument());

describe('graph store: undo/redo', () => {
  it('undoes and redoes every edit in order, restoring the exact document', () => {
    const s = store();
    const states: string[] = [snapshot(s)];
    const { src, filter } = chain(s);
    states.push(snapshot(s));
    s.getState().setParam(filter, 'where', 'length(text) > 10');
    states.push(snapshot(s));
    s.getState().setLabel(src, 'API docs');
    states.push(snapshot(s));
    s.getState().setBypass([filter], true);
    states.push(snapshot(s));

    // Each action above was one history step except the chain (5 steps: 3 adds, 2 connects).
    expect(s.getState().past).toHaveLength(5 + 3);
    s.getState().undo();
    expect(snapshot(s)).toBe(states[3]);
    s.getState().undo();
    expect(snapshot(s)).toBe(states[2]);
    s.getState().undo();
    expect(snapshot(s)).toBe(states[1]);
    s.getState().redo();
    s.getState().redo();
    s.getState().redo();
    expect(snapshot(s)).toBe(states[4]);
    expect(s.getState().future).toHaveLength(0);
    for (let i = 0; i < 8; i++) s.getState().undo();
    expect(snapshot(s)).toBe(states[0]);
    expect(s.getState().nodes).toHaveLength(0);
  });

  it('a new edit after undo drops the redo branch', () => {
    const s = store();
    const { filter } = chain(s);
    s.getState().setParam(filter, 'where', 'a');
    s.getState().undo();
    expect(s.getState().future).toHaveLength(1);
    s.getState().setParam(filter, 'where', 'b');
    expect(s.getState().future).toHaveLength(0);
    s.getState().redo();
    expect(s.getState().nodes.find((n) => n.id === filter)?.data.params.where).toBe('b');
  });

  it('coalesces typing in one field into one step, but not edits far apart in time', () => {
    const clock = { t: 0 };
    const s = store(clock);
    const { filter } = chain(s);
    const before = s.getState().past.length;
    for (const text of ['l', 'le', 'len', 'leng']) {
      clock.t += 100;
      s.getState().setParam(filter, 'where', text);
    }
    expect(s.getState().past.length).toBe(before + 1);
    clock.t += 5000;
    s.getState().setParam(filter, 'where', 'length(text) > 1');
    expect(s.getState().past.length).toBe(before + 2);
    s.getState().undo();
    expect(s.getState().nodes.find((n) => n.id === filter)?.data.params.where).toBe('leng');
    s.getState().undo();
    expect(s.getState().nodes.find((n) => n.id === filter)?.data.params.where).toBeUndefined();
  });

  it('a drag is one step (committed at drag start), and selection is not history', () => {
    const s = store();
    const { src } = chain(s);
    const before = s.getState().past.length;
    s.getState().onNodesChange([{ type: 'select', id: src, selected: true }]);
    expect(s.getState().past.length).toBe(before);
    s.getState().beginDrag();
    for (let x = 1; x <= 10; x++) s.getState().onNodesChange([{ type: 'position', id: src, position: { x: x * 10, y: 0 }, dragging: true }]);
    expect(s.getState().past.length).toBe(before + 1);
    expect(s.getState().nodes.find((n) => n.id === src)?.position.x).toBe(100);
    s.getState().undo();
    expect(s.getState().nodes.find((n) => n.id === src)?.position.x).toBe(0);
  });

  it('deleting a node removes its edges, and undo brings both back', () => {
    const s = store();
    const { filter } = chain(s);
    s.getState().select([filter]);
    s.getState().deleteSelected();
    expect(s.getState().nodes.map((n) => n.id)).not.toContain(filter);
    expect(s.getState().edges).toHaveLength(0);
    s.getState().undo();
    expect(s.getState().nodes.map((n) => n.id)).toContain(filter);
    expect(s.getState().edges).toHaveLength(2);
  });

  it('copy/paste and duplicate create fresh ids and keep internal edges only', () => {
    const s = store();
    const { src, filter, sample } = chain(s);
    s.getState().select([src, filter]);
    s.getState().copySelection();
    s.getState().paste();
    const ids = s.getState().nodes.map((n) => n.id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    const pasted = s.getState().nodes.filter((n) => n.selected);
    expect(pasted).toHaveLength(2);
    const pastedIds = new Set(pasted.map((n) => n.id));
    const internal = s.getState().edges.filter((e) => pastedIds.has(e.source) || pastedIds.has(e.target));
    expect(internal).toHaveLength(1);
    expect(pastedIds.has(internal[0]?.source as string) && pastedIds.has(internal[0]?.target as string)).toBe(true);
    s.getState().duplicate([sample]);
    expect(s.getState().nodes).toHaveLength(6);
    s.getState().undo();
    s.getState().undo();
    expect(s.getState().nodes).toHaveLength(3);
  });

  it('auto-layout places a chain left to right without overlap, as one undoable step', () => {
    const s = store();
    const { src, filter, sample } = chain(s);
    s.getState().onNodesChange([{ type: 'position', id: sample, position: { x: -500, y: 900 } }]);
    s.getState().autoLayout();
    const x = (id: string) => s.getState().nodes.find((n) => n.id === id)?.position.x ?? NaN;
    expect(x(src)).toBeLessThan(x(filter));
    expect(x(filter)).toBeLessThan(x(sample));
    s.getState().undo();
    expect(x(sample)).toBe(-500);
  });
});

describe('graph document round trip', () => {
  it('document → canvas → document is lossless (except rounding positions)', () => {
    const doc: GraphDocument = {
      format: 'forge-graph',
      version: 3,
      name: 'rt',
      seed: 7,
      ...({ futureTopLevel: [1] } as object),
      nodes: [
        { id: 'a', type: 'source.jsonl', params: { path: 'x.jsonl' }, position: { x: 1, y: 2 }, label: 'A' },
        { id: 'b', type: 'transform.filter', params: { where: 'true' }, position: { x: 300, y: 2 }, bypass: true, notes: 'n' },
        { id: 'c', type: 'mystery.node', params: { k: [1, 2] }, position: { x: 600, y: 2 }, sweep: { param: 'k', values: [1, 2] } },
        { id: 'd', type: 'future.node', params: {}, position: { x: 900, y: 2 }, futureField: { x: 1 } } as GraphDocument['nodes'][number],
      ],
      edges: [
        { from: { node: 'a', port: 'out' }, to: { node: 'b', port: 'in' } },
        { id: 'e2', from: { node: 'b', port: 'out' }, to: { node: 'c', port: 'in' } },
      ],
    };
    const { nodes, edges, meta } = docToFlow(doc);
    expect(flowToDoc(nodes, edges, meta)).toEqual(doc);
  });

  it('finds nodes carrying user code', () => {
    const s = store();
    const { filter } = chain(s);
    expect(codeNodes(s.getState().toDocument(), TYPE_MAP)).toEqual([]);
    s.getState().setParam(filter, 'where', 'true');
    expect(codeNodes(s.getState().toDocument(), TYPE_MAP)).toEqual([{ nodeId: filter, params: ['where'] }]);
  });
});

describe('graph store: align and distribute', () => {
  it('aligns the selection on its leftmost edge in one undoable step, leaving the rest alone', () => {
    const s = store();
    const { src, filter, sample } = chain(s);
    s.getState().onNodesChange([
      { type: 'position', id: filter, position: { x: 320, y: 90 } },
      { type: 'position', id: sample, position: { x: 610, y: 240 } },
    ]);
    s.getState().select([filter, sample]);
    const before = snapshot(s);
    s.getState().alignSelected('left');
    const pos = (id: string) => s.getState().nodes.find((n) => n.id === id)?.position;
    expect(pos(filter)).toEqual({ x: 320, y: 90 });
    expect(pos(sample)).toEqual({ x: 320, y: 240 });
    expect(pos(src)).toEqual({ x: 0, y: 0 });
    s.getState().undo();
    expect(snapshot(s)).toBe(before);
  });

  it('distributes three nodes with equal gaps between them, outermost ones fixed', () => {
    const s = store();
    const { src, filter, sample } = chain(s);
    s.getState().onNodesChange([{ type: 'position', id: filter, position: { x: 100, y: 0 } }]);
    s.getState().select([src, filter, sample]);
    s.getState().alignSelected('distribute-x');
    const x = (id: string) => s.getState().nodes.find((n) => n.id === id)?.position.x;
    // Unmeasured nodes use the default width (232): span 0..832, gaps (832 - 3·232) / 2 = 68.
    expect([x(src), x(filter), x(sample)]).toEqual([0, 300, 600]);
  });
});

describe('free spot for quick-add', () => {
  it('keeps the wanted spot when it is free, and moves to the nearest free one when a node is there', () => {
    const nodes = [{ position: { x: 0, y: 0 }, measured: { width: 232, height: 120 } }];
    expect(freeSpot(nodes, { x: 600, y: 0 })).toEqual({ x: 600, y: 0 });
    const p = freeSpot(nodes, { x: 10, y: 10 });
    const overlaps = p.x < 232 + 16 && p.x + 232 + 16 > 0 && p.y < 120 + 16 && p.y + 120 + 16 > 0;
    expect(overlaps).toBe(false);
    // Nearest: moving down (136 px ⇒ 4 steps of 40) beats moving sideways (248 px ⇒ 7 steps).
    expect(p).toEqual({ x: 10, y: 170 });
  });
});
