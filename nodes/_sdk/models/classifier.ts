import { writeFileSync } from 'node:fs';
import { throwIfAborted } from '../../../engine/sdk/node-error.js';
import type { ArtifactRef, OutputBuilder } from '../../../engine/sdk/types.js';
import type { JsonValue } from '../../../engine/sdk/hash.js';
import { writeFastText } from '../fasttext/bin.js';
import { LABEL_PREFIX } from '../fasttext/dictionary.js';
import { fnvHash } from '../fasttext/hash.js';
import type { FastTextModel } from '../fasttext/model.js';
import { fastTextFromOnnx, fastTextToOnnx, manifestOf, padIds, type FastTextManifest } from '../fasttext/onnx.js';
import { MODEL_BIN, MODEL_MANIFEST, MODEL_ONNX, readClassifierArtifact } from './model-artifact.js';
import { createSession, ort, type Device, type ProviderChoice } from '../onnx/session.js';

/** Label as users see it: without fastText's `__label__` prefix. */
export function displayLabel(label: string, prefix = LABEL_PREFIX): string {
  return label.startsWith(prefix) ? label.slice(prefix.length) : label;
}

/** Writes a classifier as a `model` artifact: model.onnx + model.json (+ model.bin for the fastText CLI). */
export function writeClassifierArtifact(out: OutputBuilder, model: FastTextModel, extra: Record<string, unknown> & { positiveLabel?: string }, opts: { writeBin: boolean }): FastTextManifest {
  const { bytes, padId } = fastTextToOnnx(model);
  writeFileSync(out.file(MODEL_ONNX), bytes);
  const manifest = manifestOf(model, padId, extra);
  writeFileSync(out.file(MODEL_MANIFEST), `${JSON.stringify(manifest)}\n`);
  if (opts.writeBin) writeFileSync(out.file(MODEL_BIN), writeFastText(model));
  out.setMeta('format', 'forge.fasttext');
  out.setMeta(
    'labels',
    model.labels.map((l) => displayLabel(l)),
  );
  out.setMeta('dim', model.args.dim);
  out.setMeta('loss', model.args.loss);
  out.setMeta('vocabulary', model.dict.nwords);
  out.setMeta('inputRows', model.dict.inputRows);
  out.setMeta('wordNgrams', model.args.wordNgrams);
  out.setMeta('preprocess', model.preprocess);
  if (extra.positiveLabel) out.setMeta('positiveLabel', displayLabel(extra.positiveLabel));
  return manifest;
}

export function loadClassifier(ref: ArtifactRef, port = 'model'): { model: FastTextModel; manifest: FastTextManifest; onnx: Uint8Array } {
  const { manifest, onnx } = readClassifierArtifact(ref, port);
  return { model: fastTextFromOnnx(onnx, manifest), manifest, onnx };
}

/** Deterministic holdout membership from the row id and the graph seed. */
export function inHoldout(id: string, seed: number, fraction: number): boolean {
  if (fraction <= 0) return false;
  // FNV-1a alone mixes the last bytes poorly into the high bits; finish with murmur3's fmix32.
  let h = fnvHash(new TextEncoder().encode(`${seed}\u0000${id}`));
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296 < fraction;
}

export interface ScoreOptions {
  backend: 'typescript' | 'onnx';
  provider: ProviderChoice;
  threads?: number;
  batchSize: number;
  log?: (message: string, level?: 'info' | 'warn') => void;
  signal?: AbortSignal;
  progress?(done: number, total: number): void;
}

/** Label probabilities of every text (n × labels, row-major), through TypeScript or ONNX Runtime. */
export async function scoreTexts(model: FastTextModel, onnx: Uint8Array, padId: number, texts: readonly string[], o: ScoreOptions): Promise<{ probs: Float32Array; device: Device }> {
  const nl = model.nlabels;
  const probs = new Float32Array(texts.length * nl);
  if (o.backend === 'typescript') {
    const hidden = new Float32Array(model.args.dim);
    for (let i = 0; i < texts.length; i++) {
      if (o.signal && (i & 1023) === 0) throwIfAborted(o.signal);
      probs.set(model.probabilities(model.features(texts[i]!), hidden), i * nl);
      if ((i & 1023) === 1023) {
        o.progress?.(i + 1, texts.length);
        // A queue worker scores on its main thread: without a turn of the event loop now and then its
        // job lock is not renewed (15 s) and a long shard would be taken for a stalled job.
        if ((i & 8191) === 8191) await new Promise<void>((r) => setImmediate(r));
      }
    }
    o.progress?.(texts.length, texts.length);
    return { probs, device: 'cpu' };
  }
  const { session, device } = await createSession(onnx, { provider: o.provider, threads: o.threads, log: o.log });
  try {
    const feats = texts.map((t) => model.features(t));
    // Length-sorted batches: padding costs work in the Gather/ReduceSum.
    const order = feats.map((_, i) => i).sort((a, b) => feats[a]!.length - feats[b]!.length || a - b);
    for (let s = 0; s < order.length; s += o.batchSize) {
      if (o.signal) throwIfAborted(o.signal);
      const rows = order.slice(s, s + o.batchSize);
      const { data, length } = padIds(
        rows.map((r) => feats[r]!),
        padId,
      );
      const out = await session.run({ ids: new ort.Tensor('int64', data, [rows.length, length]) }, ['probs']);
      const y = out.probs!.data as Float32Array;
      rows.forEach((r, b) => probs.set(y.subarray(b * nl, (b + 1) * nl), r * nl));
      o.progress?.(Math.min(order.length, s + o.batchSize), order.length);
    }
  } finally {
    await session.release();
  }
  return { probs, device };
}

export function jsonMeta(v: Record<string, unknown>): Record<string, JsonValue> {
  return JSON.parse(JSON.stringify(v)) as Record<string, JsonValue>;
}
