import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NodeError } from '../../engine/sdk/node-error.js';
import type { ArtifactRef, LogLevel } from '../../engine/sdk/types.js';
import type { MetricValue } from '../_sdk/report.js';
import { NgramModel } from '../_sdk/models/ngram-model.js';
import { isTorchLm, OnnxCausalLm, readTorchLmHeader } from '../_sdk/onnx/causal-lm.js';
import type { ProviderChoice } from '../_sdk/onnx/session.js';
import { loadTokenizer, type TextTokenizer } from '../_sdk/text/tokenizer.js';

/** Scores a batch of tokenized documents; n-gram and ONNX models behind one shape. */
export interface Scorer {
  describe: string;
  /** The model's tokenizer (each model carries its own, checked against its header). */
  tok: TextTokenizer;
  /** Training stages the model went through, oldest first (empty for an n-gram model). */
  stages: string[];
  score(docs: number[][]): Promise<{ nll: number; predictions: number; unseen: number }[]>;
  metrics: Record<string, MetricValue>;
  release(): Promise<void>;
}

export interface ScorerOptions {
  provider: ProviderChoice;
  threads: number;
  log: (message: string, level?: LogLevel) => void;
  setDevice?: (device: string) => void;
  /** The input field errors name (`inputs.model`, `inputs.checkpoints`). */
  field: string;
  baseDir: string;
}

/** Opens a forge-torch-lm (ONNX Runtime) or a forge n-gram LM from its artifact folder. */
export async function openScorer(ref: ArtifactRef, o: ScorerOptions): Promise<Scorer> {
  if (!existsSync(join(ref.dir, 'tokenizer.json'))) throw new NodeError('the model carries no tokenizer.json', { field: o.field });
  const tok = loadTokenizer(join(ref.dir, 'tokenizer.json'), o.baseDir, o.field);
  if (isTorchLm(ref.dir)) {
    let header;
    try {
      header = readTorchLmHeader(ref.dir);
    } catch (err) {
      throw new NodeError(`the model is not a usable neural LM: ${(err as Error).message}`, { field: o.field });
    }
    if (tok.sha256 !== header.tokenizer.sha256) throw new NodeError('the tokenizer inside the model does not match the one it was trained with', { field: o.field });
    const lm = await OnnxCausalLm.open(ref.dir, header.arch, { provider: o.provider, threads: o.threads, log: o.log });
    o.setDevice?.(`onnxruntime:${lm.device}`);
    const trained = header.stages.reduce((a, st) => a + st.tokens, 0);
    return {
      describe: `transformer ${header.arch.layers}×${header.arch.dModel}, ${header.parameters.toLocaleString('en-US')} parameters, stages ${header.stages.map((st) => st.name).join(' → ')}`,
      tok,
      stages: header.stages.map((st) => st.name),
      score: async (docs) => (await lm.score(docs)).map((d) => ({ ...d, unseen: 0 })),
      metrics: { 'model.parameters': header.parameters, 'model.training_tokens': trained, 'model.stages': header.stages.map((st) => st.name).join(' > ') },
      release: () => lm.release(),
    };
  }
  let model: NgramModel;
  try {
    model = NgramModel.load(ref.dir);
  } catch (err) {
    throw new NodeError(`the model is neither a forge n-gram LM nor a forge-torch-lm: ${(err as Error).message}`, { field: o.field });
  }
  if (tok.sha256 !== model.header.tokenizer.sha256) throw new NodeError('the tokenizer inside the model does not match the one it was trained with', { field: o.field });
  return {
    describe: `${model.header.order}-gram, ${model.header.training.tokens.toLocaleString('en-US')} training tokens`,
    tok,
    stages: [],
    score: (docs) => Promise.resolve(docs.map((d) => model.scoreDocument(d))),
    metrics: { 'model.order': model.header.order, 'model.training_tokens': model.header.training.tokens },
    release: () => Promise.resolve(),
  };
}
