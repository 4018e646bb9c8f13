import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { NODE_TYPES } from '../../../nodes/index.js';
import { NodeRegistry } from '../../registry.js';
import { CancelledError } from '../../sdk/node-error.js';
import { defineNode, type OutputBuilder, type RunContext } from '../../sdk/types.js';

/** Small metric-producing node types for scheduler tests (sweeps, fan-in, cancellation). */

function writeMetrics(out: OutputBuilder, values: Record<string, number | string>): void {
  writeFileSync(out.file('metrics.json'), JSON.stringify(values));
  for (const [k, v] of Object.entries(values)) out.setMeta(k, v);
}

function readValue(ctx: RunContext<unknown>, port: string): number {
  return Number(ctx.input(port).manifest.meta.value);
}

export const constNode = defineNode({
  type: 'test.const',
  version: 1,
  category: 'Test',
  title: 'Constant',
  description: 'Outputs { value }.',
  inputs: {},
  outputs: { out: { kind: 'metrics' } },
  params: z.object({ value: z.number().default(0) }),
  deterministic: true,
  async run(ctx) {
    writeMetrics(ctx.output('out'), { value: ctx.params.value });
  },
  module: import.meta.url,
});

export const squareNode = defineNode({
  type: 'test.square',
  version: 1,
  category: 'Test',
  title: 'Square',
  description: 'Outputs { value: in² + offset }.',
  inputs: { in: { kind: 'metrics' } },
  outputs: { out: { kind: 'metrics' } },
  params: z.object({ offset: z.number().default(0) }),
  deterministic: true,
  async run(ctx) {
    const v = readValue(ctx, 'in');
    writeMetrics(ctx.output('out'), { value: v * v + ctx.params.offset });
  },
  module: import.meta.url,
});

export const collectNode = defineNode({
  type: 'test.collect',
  version: 1,
  category: 'Test',
  title: 'Collect',
  description: 'Fan-in: sums values and lists the variants it saw.',
  inputs: { points: { kind: 'metrics', multiple: true } },
  outputs: { out: { kind: 'metrics' } },
  params: z.object({}),
  deterministic: true,
  async run(ctx) {
    const items = ctx.inputs('points');
    const sum = items.reduce((a, i) => a + Number(i.ref.manifest.meta.value), 0);
    writeMetrics(ctx.output('out'), { n: items.length, sum, variants: JSON.stringify(items.map((i) => i.variant)) });
  },
  module: import.meta.url,
});

export const slowNode = defineNode({
  type: 'test.slow',
  version: 1,
  category: 'Test',
  title: 'Slow',
  description: 'Waits ms milliseconds in small steps, honouring cancellation.',
  inputs: { in: { kind: 'metrics', optional: true } },
  outputs: { out: { kind: 'metrics' } },
  params: z.object({ ms: z.number().default(5000) }),
  deterministic: true,
  async run(ctx) {
    const out = ctx.output('out');
    // Write part of the output first, so a cancel must discard a half-written artifact.
    writeFileSync(out.file('partial.txt'), 'half');
    for (let t = 0; t < ctx.params.ms; t += 20) {
      if (ctx.signal.aborted) throw new CancelledError();
      ctx.progress(t, ctx.params.ms);
      await sleep(20);
    }
    writeMetrics(out, { value: 1 });
  },
  module: import.meta.url,
});

export const failNode = defineNode({
  type: 'test.fail',
  version: 1,
  category: 'Test',
  title: 'Fail',
  description: 'Always throws.',
  inputs: { in: { kind: 'metrics', optional: true } },
  outputs: { out: { kind: 'metrics' } },
  params: z.object({}),
  deterministic: true,
  async run() {
    throw new Error('boom');
  },
  module: import.meta.url,
});

export const spinNode = defineNode({
  type: 'test.spin',
  version: 1,
  category: 'Test',
  title: 'Spin (worker)',
  description: 'Busy-loops in a worker thread for ms milliseconds, reporting its thread.',
  inputs: {},
  outputs: { out: { kind: 'metrics' } },
  params: z.object({ ms: z.number().default(300) }),
  deterministic: true,
  worker: true,
  async run(ctx) {
    const { isMainThread } = await import('node:worker_threads');
    const end = Date.now() + ctx.params.ms;
    let spins = 0;
    while (Date.now() < end) spins++;
    ctx.log(`spun ${spins > 0 ? 'some' : 'no'} loops`);
    writeMetrics(ctx.output('out'), { value: isMainThread ? 0 : 1 });
  },
  module: import.meta.url,
});

export function testRegistry(): NodeRegistry {
  return new NodeRegistry([...NODE_TYPES, constNode, squareNode, collectNode, slowNode, failNode, spinNode], import.meta.url);
}

export const createRegistry = testRegistry;
