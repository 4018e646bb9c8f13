/**
 * Part of the engine ↔ renderer contract: whether an edge between two ports is allowed. The
 * engine's validation and the canvas's drag-time refusals both ask this, and word the answer
 * for their own audience.
 */

/** The port facts the rule needs (a subset of engine/sdk PortSpec). */
export interface PortRule {
  kind: string;
  multiple?: boolean;
}

export type EdgeProblem = 'unknown-output' | 'unknown-input' | 'kind-mismatch' | 'input-taken';

/**
 * @param out the source node's output port spec, undefined if it has no such output
 * @param inp the target node's input port spec, undefined if it has no such input
 * @param inputAlreadyFed whether another edge already feeds that input
 */
export function edgeProblem(out: PortRule | undefined, inp: PortRule | undefined, inputAlreadyFed: boolean): EdgeProblem | null {
  if (!out) return 'unknown-output';
  if (!inp) return 'unknown-input';
  if (out.kind !== inp.kind) return 'kind-mismatch';
  // A fan-in input (`multiple`) takes any number of edges.
  if (inputAlreadyFed && !inp.multiple) return 'input-taken';
  return null;
}
