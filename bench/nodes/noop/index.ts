import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { defineNode, type NodeType, type RunContext } from '../../../engine/sdk/types.js';

// Trivial node types for measuring the engine's per-node overhead: each writes a few bytes of
// metrics JSON, so nearly all the time of a run is the engine's (cache key, provenance, staging,
// publish). They live in their own folder because the registry hashes a node's folder as its code.

const params = z.object({
  step: z.number().int().nonnegative().default(0),
});

async function run(ctx: RunContext<z.output<typeof params>>): Promise<void> {
  const input = ctx.optionalInput('in');
  const depth = input ? (JSON.parse(readFileSync(join(input.dir, 'metrics.json'), 'utf8')) as { depth: number }).depth + 1 : 0;
  const out = ctx.output('out');
  writeFileSync(out.file('metrics.json'), JSON.stringify({ step: ctx.params.step, depth }));
  out.setRows(1);
  out.setMeta('depth', depth);
}

export const noopSource: NodeType = defineNode({
  type: 'bench.noop-source',
  version: 1,
  category: 'Bench',
  title: 'No-op source',
  description: 'Writes a tiny metrics JSON; no inputs.',
  inputs: {},
  outputs: { out: { kind: 'metrics' } },
  params,
  deterministic: true,
  run,
  module: import.meta.url,
});

export const noop: NodeType = defineNode({
  type: 'bench.noop',
  version: 1,
  category: 'Bench',
  title: 'No-op',
  description: 'Reads a tiny metrics JSON and writes another one.',
  inputs: { in: { kind: 'metrics' } },
  outputs: { out: { kind: 'metrics' } },
  params,
  deterministic: true,
  run,
  module: import.meta.url,
});
