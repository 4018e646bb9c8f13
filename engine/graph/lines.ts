import type { Diagnostic } from './errors.js';

/**
 * Adds the line in the graph file to diagnostics about a node or edge, so editors and terminals can
 * jump to it. Finds the node by its `"id"` member and edges by their order of `"from"` members.
 */
export function annotateLines(diagnostics: Diagnostic[], text: string): Diagnostic[] {
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const edgeOffsets: number[] = [];
  const fromRe = /"from"\s*:/g;
  for (let m = fromRe.exec(text); m; m = fromRe.exec(text)) edgeOffsets.push(m.index);
  return diagnostics.map((d) => {
    if (d.line !== undefined) return d;
    if (d.edgeId) {
      const byId = new RegExp(`"id"\\s*:\\s*${JSON.stringify(d.edgeId).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).exec(text);
      const index = d.edgeId.startsWith('#') ? Number(d.edgeId.slice(1)) : -1;
      const offset = index >= 0 ? edgeOffsets[index] : byId?.index;
      if (offset !== undefined) return { ...d, line: lineAt(offset) };
    }
    if (d.nodeId) {
      const m = new RegExp(`"id"\\s*:\\s*${JSON.stringify(d.nodeId).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).exec(text);
      if (m) return { ...d, line: lineAt(m.index) };
    }
    return d;
  });
}
