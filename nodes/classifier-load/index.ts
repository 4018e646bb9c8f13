import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { displayLabel, writeClassifierArtifact } from '../_sdk/models/classifier.js';
import { FastTextFormatError, readFastText } from '../_sdk/fasttext/bin.js';
import { PREPROCESS } from '../_sdk/fasttext/dictionary.js';
import { FastTextModel } from '../_sdk/fasttext/model.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'fastText model', description: 'A .bin or .ftz file trained with fastText (supervised), relative to the graph', widget: 'file' }),
  preprocess: z.enum(PREPROCESS).default('none').meta({ title: 'Preprocessing', description: 'What the model was trained on: none = raw whitespace-split text, like the fasttext command' }),
  positiveLabel: z.string().optional().meta({ title: 'Positive label', description: 'Label whose probability is the default score (without __label__)' }),
});

export default defineNode({
  type: 'ml.classifier-load',
  version: 1,
  category: 'ML',
  title: 'Classifier: load fastText',
  description:
    'Loads an existing fastText supervised model (.bin, or quantized .ftz) — language id, quality filters — as a model artifact: the same predictions as the fasttext command, plus an ONNX export.',
  inputs: {},
  outputs: { model: { kind: 'model' } },
  params,
  deterministic: true,
  worker: true,
  inputFiles: (p) => [p.path],
  async run(ctx) {
    const p = ctx.params;
    const abs = ctx.resolvePath(p.path);
    if (!existsSync(abs)) throw new NodeError('file not found', { file: p.path, field: 'params.path' });
    if (statSync(abs).size === 0) throw new NodeError('file is empty', { file: p.path, field: 'params.path' });
    let loaded;
    try {
      loaded = readFastText(readFileSync(abs));
    } catch (err) {
      if (err instanceof FastTextFormatError) throw new NodeError(`not a readable fastText model: ${err.message}`, { file: p.path, field: 'params.path' });
      throw new NodeError((err as Error).message, { file: p.path, field: 'params.path' });
    }
    const m = loaded.model;
    const model = new FastTextModel(m.args, m.dict, m.input, m.output, p.preprocess);
    const labels = model.labels.map((l) => displayLabel(l, model.args.label));
    if (p.positiveLabel !== undefined && !labels.includes(p.positiveLabel))
      throw new NodeError(`the model has no label "${p.positiveLabel}" (labels: ${labels.slice(0, 20).join(', ')}${labels.length > 20 ? ', …' : ''})`, { field: 'params.positiveLabel' });
    const out = ctx.output('model');
    writeClassifierArtifact(
      out,
      model,
      { positiveLabel: p.positiveLabel !== undefined ? model.args.label + p.positiveLabel : undefined, source: { file: p.path, fastTextVersion: loaded.version, quantized: loaded.quantized } },
      { writeBin: false },
    );
    // Keep the original file too, so the fasttext command can be run on exactly what was loaded.
    copyFileSync(abs, out.file(`original${extname(abs) || '.bin'}`));
    out.setMeta('quantized', loaded.quantized);
    ctx.setDevice('cpu');
    ctx.log(
      `loaded ${loaded.quantized ? 'quantized ' : ''}fastText model: ${labels.length} labels, ${model.dict.nwords} words, dim ${model.args.dim}, loss ${model.args.loss}, ${model.args.wordNgrams}-gram words, char n-grams ${model.args.minn}-${model.args.maxn}`,
    );
  },
  module: import.meta.url,
});
