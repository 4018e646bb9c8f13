import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFERRED_FILE, DEFERRED_FORMAT, type DeferredRecipe } from '../sdk/deferred.js';
import type { FileHash, PortHash } from '../provenance/events.js';
import type { NodeType } from '../sdk/types.js';
import type { JsonValue } from '../util/hash.js';
import type { UnitResult, WorkUnit } from './work-unit.js';

/**
 * A deferred node's execution: each output becomes a recipe (engine/sdk/deferred.ts) that its
 * consumer computes in its own pass. Nothing is read; the recipe's hash follows from the node's
 * code, params, seed, input files and inputs, so it is as deterministic as the rows would be.
 */
export function writeRecipes(def: NodeType, unit: WorkUnit, facts: { codeHash: string; files: FileHash[]; inputs: PortHash[] }): UnitResult {
  const outputs: UnitResult['outputs'] = {};
  for (const [port, slot] of Object.entries(unit.outputs)) {
    const recipe: DeferredRecipe = {
      format: DEFERRED_FORMAT,
      nodeType: def.type,
      nodeVersion: def.version,
      codeHash: facts.codeHash,
      port,
      params: unit.params as Record<string, JsonValue>,
      seed: unit.seed,
      files: facts.files.map((f) => ({ path: f.path, hash: f.hash })),
      inputs: Object.fromEntries(facts.inputs.map((i) => [i.port, i.hash])),
    };
    writeFileSync(join(slot.dir, DEFERRED_FILE), JSON.stringify(recipe, null, 2));
    outputs[port] = { kind: 'dataset', meta: { deferred: true } };
  }
  return { outputs, device: null };
}
