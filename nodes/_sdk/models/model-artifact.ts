import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeError } from '../../../engine/sdk/node-error.js';
import type { ArtifactRef } from '../../../engine/sdk/types.js';
import type { FastTextManifest } from '../fasttext/onnx.js';

/**
 * The `model` artifact of a fastText-style classifier: `model.onnx` (weights + graph, see
 * fasttext/onnx.ts) and `model.json` (FastTextManifest: dictionary, n-gram settings, preprocessing,
 * labels, training parameters and metrics). Optionally `model.bin`, the same model in fastText's own
 * format for the `fasttext` command line.
 */
export const MODEL_ONNX = 'model.onnx';
export const MODEL_MANIFEST = 'model.json';
export const MODEL_BIN = 'model.bin';

export function readClassifierArtifact(ref: ArtifactRef, port = 'model'): { manifest: FastTextManifest; onnx: Uint8Array } {
  if (ref.kind !== 'model') throw new NodeError(`input "${port}" is a ${ref.kind}, expected a model`, { field: `inputs.${port}` });
  const mf = join(ref.dir, MODEL_MANIFEST);
  const of = join(ref.dir, MODEL_ONNX);
  if (!existsSync(mf) || !existsSync(of)) throw new NodeError(`input "${port}" is not a Forge classifier model (needs ${MODEL_MANIFEST} and ${MODEL_ONNX})`, { field: `inputs.${port}` });
  const manifest = JSON.parse(readFileSync(mf, 'utf8')) as FastTextManifest;
  if (manifest.format !== 'forge.fasttext') throw new NodeError(`input "${port}" holds a ${String(manifest.format)} model, expected forge.fasttext`, { file: mf, field: `inputs.${port}` });
  return { manifest, onnx: readFileSync(of) };
}
