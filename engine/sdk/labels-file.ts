import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { NodeError } from './node-error.js';

/**
 * Hand labels of a sampled set of documents, kept beside the graph (not in `.forge/`) so they can be
 * versioned and are an input file of the labelling node: editing a label changes the node's cache key
 * and reruns exactly it. One file per (node, sample): `labels/<node id>/<sample hash>.json`. A new
 * sample (other documents) starts a new file, so labels never silently attach to other texts.
 */

export const LABELS_DIR = 'labels';
export const LABELS_FORMAT = 'forge.labels';

/** A sample hash as it appears in a file name: hex only, so it can never form a path. */
export const SampleHash = z.string().regex(/^[0-9a-f]{16,64}$/, 'not a sample hash (16-64 hex digits)');

const LabelsFileSchema = z.object({
  format: z.literal(LABELS_FORMAT),
  version: z.literal(1),
  node: z.string(),
  sample: SampleHash,
  labels: z.record(z.string(), z.boolean()),
});
export type LabelsFileContent = z.infer<typeof LabelsFileSchema>;

/** Node ids are [A-Za-z0-9_.:-]; ':' is not portable in file names and a leading '.' would hide the folder. */
function folderName(nodeId: string): string {
  const safe = nodeId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  if (safe === '') throw new Error('labels: empty node id');
  return safe;
}

export function labelsFolder(baseDir: string, nodeId: string): string {
  return join(baseDir, LABELS_DIR, folderName(nodeId));
}

export function labelsFilePath(baseDir: string, nodeId: string, sampleHash: string): string {
  return join(labelsFolder(baseDir, nodeId), `${SampleHash.parse(sampleHash)}.json`);
}

/**
 * Every labels file of a node. The engine hashes input files before upstream nodes have run, when
 * the sample (and so its hash) is not known yet: all of the node's files are declared, and the
 * one of the current sample is among them.
 */
export function listLabelsFiles(baseDir: string, nodeId: string): string[] {
  const dir = labelsFolder(baseDir, nodeId);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[0-9a-f]{16,64}\.json$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** The labels of a sample (document id → agent?); empty when nobody has labelled it yet. */
export function readLabelsFile(file: string, expectedSample?: string): Map<string, boolean> {
  if (!existsSync(file)) return new Map();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NodeError(`labels file is not valid JSON: ${(err as Error).message}`, { file });
  }
  const parsed = LabelsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || undefined;
    throw new NodeError(`labels file${field ? `, field ${field}` : ''}: ${issue?.message ?? 'invalid'} (labels are true = agent, false = not agent)`, { file, field });
  }
  if (expectedSample !== undefined && parsed.data.sample !== expectedSample) {
    throw new NodeError(`labels file belongs to sample ${parsed.data.sample}, not ${expectedSample}`, { file, field: 'sample' });
  }
  return new Map(Object.entries(parsed.data.labels));
}

/** Writes a sample's labels atomically (a reader never sees half a file). Ids are sorted so diffs stay small. */
export function writeLabelsFile(file: string, content: { node: string; sample: string; labels: Record<string, boolean> }): void {
  const sorted = Object.fromEntries(Object.entries(content.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const body: LabelsFileContent = { format: LABELS_FORMAT, version: 1, node: content.node, sample: SampleHash.parse(content.sample), labels: sorted };
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(tmp, file);
}
