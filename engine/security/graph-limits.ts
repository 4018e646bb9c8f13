import { z } from 'zod';
import type { GraphDocument } from '../graph/document.js';
import type { Diagnostic } from '../graph/errors.js';
import type { NodeRegistry } from '../registry.js';

/** One sweep's variants beyond this need `sweep.maxVariants` (a typo'd range must not queue 100,000 runs). */
export const DEFAULT_MAX_SWEEP_VARIANTS = 1000;

/**
 * Checks that run before full validation, because full validation would pay for them: sweep sizes
 * (every variant is parsed), and params no node type knows (a misspelt `txetField` would otherwise
 * be dropped silently and the default used).
 */
export function graphLimitDiagnostics(doc: GraphDocument, registry: NodeRegistry, file?: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const node of doc.nodes) {
    const sweep = node.sweep;
    if (sweep) {
      const n = sweep.dirichlet ? sweep.dirichlet.samples : (sweep.values?.length ?? 0);
      const max = sweep.maxVariants ?? DEFAULT_MAX_SWEEP_VARIANTS;
      if (n > max) {
        out.push({
          severity: 'error',
          code: 'sweep-too-large',
          file,
          nodeId: node.id,
          field: 'sweep.values',
          message: `the sweep has ${n} variants, more than ${max}; set sweep.maxVariants to run that many`,
        });
      }
    }
    const def = registry.get(node.type);
    if (!def || !(def.params instanceof z.ZodObject)) continue;
    // Params saved by an older type version are checked after migration renames them (validateGraph).
    if (node.typeVersion !== undefined && node.typeVersion < def.version) continue;
    const known = Object.keys(def.params.shape);
    for (const key of Object.keys(node.params ?? {})) {
      if (known.includes(key)) continue;
      const close = closest(key, known);
      out.push({
        severity: close ? 'error' : 'warning',
        code: 'unknown-param',
        file,
        nodeId: node.id,
        field: `params.${key}`,
        message: `${node.type} has no param "${key}"${close ? `; did you mean "${close}"?` : ` (params: ${known.join(', ')}); it is ignored`}`,
      });
    }
  }
  return out;
}

/** The known name within edit distance 2 (case-insensitive), if exactly one is that close. */
function closest(word: string, candidates: string[]): string | undefined {
  const scored = candidates.map((c) => ({ c, d: distance(word.toLowerCase(), c.toLowerCase()) })).filter((s) => s.d <= Math.min(2, Math.floor(s.c.length / 3)) || s.d === 0);
  scored.sort((a, b) => a.d - b.d);
  return scored[0]?.c;
}

function distance(a: string, b: string): number {
  // Optimal string alignment: a swapped pair of letters (txet/text) counts as one edit.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
