import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { NODE_TYPES } from '../../../nodes/index.js';
import { NodeRegistry } from '../../registry.js';
import { defineNode } from '../../sdk/types.js';

/** The error fs gives when a write finds the disk full; `path` only where the syscall had one. */
export function enospc(syscall: string, path?: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, ${syscall}${path ? ` '${path}'` : ''}`);
  err.code = 'ENOSPC';
  err.errno = -28;
  err.syscall = syscall;
  if (path) err.path = path;
  return err;
}

/**
 * `test.fill` writes half its output, then meets a full disk: the seam that stands in for a tiny
 * filesystem. `target` set: the failure is on opening that sink file (errno carries the path);
 * unset: a write on a descriptor into its own output (no path on the error).
 */
export const fillNode = defineNode({
  type: 'test.fill',
  version: 1,
  category: 'Test',
  title: 'Fill the disk',
  description: 'Writes part of an output, then fails with ENOSPC.',
  inputs: {},
  outputs: { out: { kind: 'metrics' } },
  params: z.object({ target: z.string().default('').meta({ title: 'Sink file', widget: 'save-file' }) }),
  deterministic: true,
  async run(ctx) {
    const out = ctx.output('out');
    writeFileSync(out.file('half.json'), '{"rows": [1, 2,');
    if (ctx.params.target) throw enospc('open', ctx.resolvePath(ctx.params.target));
    throw enospc('write');
  },
  module: import.meta.url,
});

export function createRegistry(): NodeRegistry {
  return new NodeRegistry([...NODE_TYPES, fillNode], import.meta.url);
}
