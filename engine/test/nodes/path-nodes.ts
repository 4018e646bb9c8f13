import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { NODE_TYPES } from '../../../nodes/index.js';
import { NodeRegistry } from '../../registry.js';
import { defineNode } from '../../sdk/types.js';

/**
 * `test.open` reads a file at run time through ctx.resolvePath: `declared` is a file-widget param
 * (seen by the trust gate), `extra` is a plain string the gate never sees — what a hostile node
 * type or a node with an undeclared path param would open.
 */
export const openNode = defineNode({
  type: 'test.open',
  version: 1,
  category: 'Test',
  title: 'Open a file',
  description: 'Reads `extra` if set, else `declared`, and reports its length.',
  inputs: {},
  outputs: { out: { kind: 'metrics' } },
  params: z.object({
    declared: z.string().default('').meta({ title: 'Declared file', widget: 'file' }),
    extra: z.string().default('').meta({ title: 'Undeclared path' }),
  }),
  deterministic: true,
  async run(ctx) {
    const abs = ctx.resolvePath(ctx.params.extra || ctx.params.declared);
    const text = readFileSync(abs, 'utf8');
    const out = ctx.output('out');
    writeFileSync(out.file('metrics.json'), JSON.stringify({ chars: text.length }));
    out.setMeta('chars', text.length);
  },
  module: import.meta.url,
});

export function createRegistry(): NodeRegistry {
  return new NodeRegistry([...NODE_TYPES, openNode], import.meta.url);
}
