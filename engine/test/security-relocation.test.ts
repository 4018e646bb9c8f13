import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GraphDocument } from '../graph/document.js';
import { cleanupTemp, openEngine, readDoc, tempProject } from './helpers.js';

afterAll(cleanupTemp);

const HEPHAESTUS = 'resources/examples/hephaestus-forge.forge.json';

/** The example's source nodes (the ones that read files), plus the quickstart, run in one project folder. */
async function hashesIn(project: string): Promise<Record<string, string>> {
  const engine = openEngine(project);
  const full = readDoc(project, HEPHAESTUS);
  const sources = full.nodes.filter((n) => n.type.startsWith('source.'));
  const doc: GraphDocument = { ...full, nodes: sources, edges: [] };
  const baseDir = join(project, 'resources/examples');
  const out: Record<string, string> = {};
  for (const g of [doc, readDoc(project)]) {
    const s = await engine.run(g, { baseDir, trigger: 'test' });
    expect(s.status, JSON.stringify(s.nodes.filter((n) => n.error).map((n) => n.error))).toBe('succeeded');
    for (const n of s.nodes) for (const o of n.outputs) out[`${n.nodeId}.${o.port}`] = o.hash;
  }
  engine.close();
  return out;
}

describe('artifacts do not depend on where the project lives', () => {
  it('the example in two folders gives identical hashes for every node', async () => {
    const a = await hashesIn(tempProject());
    const b = await hashesIn(tempProject());
    expect(Object.keys(a).length).toBeGreaterThan(8);
    expect(b).toEqual(a);
  });
});
