import { z } from 'zod';

import { GRAPH_FORMAT, GRAPH_VERSION } from '../contract/graph-format.js';

export { GRAPH_FORMAT, GRAPH_VERSION } from '../contract/graph-format.js';

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'ids use letters, digits and _ . : - only');

export const portRefSchema = z.object({
  node: id,
  port: z.string().min(1),
});

export const edgeSchema = z.object({
  id: z.string().optional(),
  from: portRefSchema,
  to: portRefSchema,
});

export const positionSchema = z.object({ x: z.number(), y: z.number() });

export const hashString = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:" and 64 hex digits');

export const sweepSchema = z
  .object({
    /** Dot path into params, e.g. `agentShare` or `shares.agent`. */
    param: z.string().min(1).optional(),
    values: z
      .array(z.union([z.number(), z.string(), z.boolean()]))
      .min(1)
      .optional(),
    dirichlet: z
      .object({
        params: z.array(z.string().min(1)).min(2),
        samples: z.number().int().positive().max(1000),
        alpha: z.number().positive().default(1),
      })
      .optional(),
    /** Raises the cap on variants (1000) for a sweep that really is that large. */
    maxVariants: z.number().int().positive().optional(),
  })
  .refine((s) => (s.param !== undefined && s.values !== undefined) !== (s.dirichlet !== undefined), {
    message: 'a sweep has either param + values (a grid) or dirichlet, not both',
  });

export const nodeSchema = z.object({
  id,
  type: z.string().min(1),
  typeVersion: z.number().int().positive().optional(),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Cosmetic: never part of a cache key. */
  position: positionSchema.optional(),
  /** Cosmetic: never part of a cache key. */
  label: z.string().optional(),
  /** Cosmetic: never part of a cache key. */
  notes: z.string().optional(),
  /** A bypassed node forwards its input of the same kind to its output instead of running. */
  bypass: z.boolean().optional(),
  /**
   * Run this node once per value of one param (a grid), or per Dirichlet sample over several share
   * params; everything downstream runs per variant until a fan-in input collects them.
   */
  sweep: sweepSchema.optional(),
  /** Pinned outputs (port → artifact hash) win over recomputation until unpinned. */
  pinnedOutputs: z.record(z.string(), hashString).optional(),
  /**
   * Only on nodes of type "subgraph": the embedded graph (or the library component it uses) and its
   * typed ports. The engine flattens it before planning (engine/graph/subgraph.ts).
   */
  get subgraph(): z.ZodOptional<typeof subgraphSchema> {
    return subgraphSchema.optional();
  },
});

const portName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_]+$/, 'port names use letters, digits and _ only');

/** A subgraph input: its kind, and the inner input ports it feeds (one outer edge fans out to all). */
export const subgraphInputSchema = z.object({
  kind: z.string().min(1),
  to: z.array(portRefSchema).min(1),
  label: z.string().optional(),
});

/** A subgraph output: its kind, and the inner output port it exposes. */
export const subgraphOutputSchema = z.object({
  kind: z.string().min(1),
  from: portRefSchema,
  label: z.string().optional(),
});

/**
 * A subgraph's definition: either embedded (`nodes`, `edges`, `inputs`, `outputs`) or a reference to
 * a component file in the workspace (`component`, e.g. `components/clean.forge.json`, a graph
 * document with `inputs` and `outputs`), never both.
 */
export const subgraphSchema = z.object({
  /** Workspace-relative path of a library component; its nodes and ports are used as written there. */
  component: z
    .string()
    .min(1)
    .max(4096)
    .regex(/\.forge\.json$/, 'components are graph documents (*.forge.json)')
    .optional(),
  get nodes(): z.ZodOptional<z.ZodArray<typeof nodeSchema>> {
    return z.array(nodeSchema).optional();
  },
  edges: z.array(edgeSchema).optional(),
  inputs: z.record(portName, subgraphInputSchema).optional(),
  outputs: z.record(portName, subgraphOutputSchema).optional(),
  /** Cosmetic: whether the canvas shows the inner nodes on the subgraph node. */
  expanded: z.boolean().optional(),
});

export const filePinSchema = z.object({ hash: hashString, bytes: z.number().int().nonnegative() });

export const pinsSchema = z.object({
  /** Input files by path (relative to the document's folder) → content hash. */
  files: z.record(z.string(), filePinSchema).default({}),
});

export const graphDocumentSchema = z.object({
  format: z.literal(GRAPH_FORMAT),
  // A version 2 document is a version 3 document without subgraphs, so documents built in memory
  // by older code stay valid; documents read from text are migrated to GRAPH_VERSION first.
  version: z.union([z.literal(GRAPH_VERSION), z.literal(2)]),
  /** Set by the loader when the document was written in an older format version and migrated. */
  migratedFrom: z.number().int().positive().optional(),
  engineVersion: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  seed: z.number().int().default(0),
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema).default([]),
  pins: pinsSchema.optional(),
  /** A library component's ports (a document used as a subgraph by `subgraph.component`). */
  inputs: z.record(portName, subgraphInputSchema).optional(),
  outputs: z.record(portName, subgraphOutputSchema).optional(),
});

export type GraphDocument = z.infer<typeof graphDocumentSchema>;
export type GraphNode = z.infer<typeof nodeSchema>;
export type GraphEdge = z.infer<typeof edgeSchema>;
export type PortRef = z.infer<typeof portRefSchema>;
export type FilePin = z.infer<typeof filePinSchema>;
export type SweepSpec = z.infer<typeof sweepSchema>;
export type SubgraphSpec = z.infer<typeof subgraphSchema>;
export type SubgraphInput = z.infer<typeof subgraphInputSchema>;
export type SubgraphOutput = z.infer<typeof subgraphOutputSchema>;

/** The published JSON Schema of the current document format (also served to the UI's Monaco editor). */
export function graphJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(graphDocumentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: `https://forge.studio/schemas/graph-v${GRAPH_VERSION}.json`,
    title: 'Forge Studio graph document',
  };
}
