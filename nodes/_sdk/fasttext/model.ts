import { Dictionary, tokenize, type Preprocess } from './dictionary.js';
import { addRowTo, dotRow, type Matrix } from './matrix.js';

export const LOSSES = ['hs', 'ns', 'softmax', 'ova'] as const;
export type LossName = (typeof LOSSES)[number];
export const MODEL_NAMES = ['cbow', 'sg', 'sup'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** fastText's Args as stored in a `.bin` (plus nothing else: training-only options live elsewhere). */
export interface FastTextArgs {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  neg: number;
  wordNgrams: number;
  loss: LossName;
  model: ModelName;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
  label: string;
}

export interface Prediction {
  label: string;
  index: number;
  prob: number;
}

interface TreeNode {
  parent: number;
  left: number;
  right: number;
  count: number;
  binary: boolean;
}

/** Hierarchical softmax tree over label counts (`HierarchicalSoftmaxLoss::buildTree`). */
export class HsTree {
  readonly tree: TreeNode[];
  readonly paths: number[][];
  readonly codes: boolean[][];
  constructor(
    readonly osz: number,
    counts: readonly number[],
  ) {
    const tree: TreeNode[] = [];
    for (let i = 0; i < 2 * osz - 1; i++) tree.push({ parent: -1, left: -1, right: -1, count: 1e15, binary: false });
    for (let i = 0; i < osz; i++) tree[i]!.count = counts[i]!;
    let leaf = osz - 1;
    let node = osz;
    for (let i = osz; i < 2 * osz - 1; i++) {
      const mini = [0, 0];
      for (let j = 0; j < 2; j++) {
        if (leaf >= 0 && tree[leaf]!.count < tree[node]!.count) mini[j] = leaf--;
        else mini[j] = node++;
      }
      const [a, b] = mini as [number, number];
      tree[i]!.left = a;
      tree[i]!.right = b;
      tree[i]!.count = tree[a]!.count + tree[b]!.count;
      tree[a]!.parent = i;
      tree[b]!.parent = i;
      tree[b]!.binary = true;
    }
    this.tree = tree;
    this.paths = [];
    this.codes = [];
    for (let i = 0; i < osz; i++) {
      const path: number[] = [];
      const code: boolean[] = [];
      let j = i;
      while (tree[j]!.parent !== -1) {
        path.push(tree[j]!.parent - osz);
        code.push(tree[j]!.binary);
        j = tree[j]!.parent;
      }
      this.paths.push(path);
      this.codes.push(code);
    }
  }
}

const SIGMOID_TABLE_SIZE = 512;
const MAX_SIGMOID = 8;
const T_SIGMOID = Float32Array.from({ length: SIGMOID_TABLE_SIZE + 1 }, (_, i) => {
  const x = Math.fround((i * 2 * MAX_SIGMOID) / SIGMOID_TABLE_SIZE - MAX_SIGMOID);
  return 1 / (1 + Math.exp(-x));
});

/** fastText's table sigmoid (used by ova / ns prediction). */
export function tableSigmoid(x: number): number {
  if (x < -MAX_SIGMOID) return 0;
  if (x > MAX_SIGMOID) return 1;
  return T_SIGMOID[Math.trunc(Math.fround(Math.fround(Math.fround(x + MAX_SIGMOID) * SIGMOID_TABLE_SIZE) / MAX_SIGMOID / 2))]!;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** `std_log`: log(x + 1e-5), stored as float. */
function stdLog(x: number): number {
  return Math.fround(Math.log(x + 1e-5));
}

/**
 * A supervised fastText model: dictionary, input matrix (words + buckets), output matrix, loss.
 * `probabilities` gives the model's true label probabilities (what Forge writes as scores, and what
 * the ONNX export computes); `predictLikeFastText` reproduces the `fasttext predict-prob` output,
 * including its quirks (probabilities reported as exp(log(p + 1e-5)), table sigmoid for ova).
 */
export class FastTextModel {
  readonly hs: HsTree | null;
  readonly labels: string[];
  constructor(
    readonly args: FastTextArgs,
    readonly dict: Dictionary,
    readonly input: Matrix,
    readonly output: Matrix,
    readonly preprocess: Preprocess = 'none',
  ) {
    if (args.model !== 'sup') throw new Error(`not a supervised model (model = ${args.model}); only classifiers can score text`);
    this.labels = dict.labels();
    this.hs = args.loss === 'hs' ? new HsTree(this.labels.length, dict.labelCounts()) : null;
  }

  get nlabels(): number {
    return this.labels.length;
  }

  /** Input rows of a text after this model's preprocessing. */
  features(text: string): Int32Array {
    return this.dict.featurize(tokenize(text, this.preprocess));
  }

  /** `computeHidden`: the float32 mean of the input rows (zeros for an empty line). */
  hidden(ids: ArrayLike<number>, out: Float32Array = new Float32Array(this.args.dim)): Float32Array {
    out.fill(0);
    const n = ids.length;
    if (n === 0) return out;
    for (let i = 0; i < n; i++) addRowTo(out, this.input, ids[i]!);
    const inv = Math.fround(1 / n);
    for (let j = 0; j < out.length; j++) out[j] = out[j]! * inv;
    return out;
  }

  /**
   * True label probabilities for the given input rows (in output-row order). A text with no known
   * features gets the model's no-evidence prediction (hidden vector of zeros), as the ONNX export does.
   */
  probabilities(ids: ArrayLike<number>, hiddenBuf?: Float32Array): Float64Array {
    const probs = new Float64Array(this.nlabels);
    const h = this.hidden(ids, hiddenBuf);
    const loss = this.args.loss;
    if (loss === 'softmax') {
      let max = -Infinity;
      for (let i = 0; i < this.nlabels; i++) {
        probs[i] = dotRow(this.output, h, i);
        if (probs[i]! > max) max = probs[i]!;
      }
      let z = 0;
      for (let i = 0; i < this.nlabels; i++) {
        probs[i] = Math.exp(probs[i]! - max);
        z += probs[i]!;
      }
      for (let i = 0; i < this.nlabels; i++) probs[i] = probs[i]! / z;
    } else if (loss === 'hs') {
      const tree = this.hs!;
      const f = new Float64Array(Math.max(0, this.nlabels - 1));
      for (let i = 0; i < f.length; i++) f[i] = sigmoid(dotRow(this.output, h, i));
      for (let l = 0; l < this.nlabels; l++) {
        let p = 1;
        const path = tree.paths[l]!;
        const code = tree.codes[l]!;
        for (let j = 0; j < path.length; j++) p *= code[j] ? f[path[j]!]! : 1 - f[path[j]!]!;
        probs[l] = p;
      }
    } else {
      for (let i = 0; i < this.nlabels; i++) probs[i] = sigmoid(dotRow(this.output, h, i));
    }
    return probs;
  }

  /** `fasttext predict-prob` semantics: top k labels with prob ≥ threshold, probabilities as the CLI prints them. */
  predictLikeFastText(ids: ArrayLike<number>, k = 1, threshold = 0): Prediction[] {
    if (ids.length === 0) return [];
    const h = this.hidden(ids);
    const scored: { score: number; index: number }[] = [];
    const loss = this.args.loss;
    if (loss === 'hs') {
      const tree = this.hs!;
      const osz = this.nlabels;
      const logThreshold = stdLog(threshold);
      const dfs = (node: number, score: number) => {
        if (score < logThreshold) return;
        const t = tree.tree[node]!;
        if (t.left === -1 && t.right === -1) {
          scored.push({ score, index: node });
          return;
        }
        const f = Math.fround(1 / (1 + Math.exp(-dotRow(this.output, h, node - osz))));
        dfs(t.left, Math.fround(score + stdLog(1 - f)));
        dfs(t.right, Math.fround(score + stdLog(f)));
      };
      dfs(2 * osz - 2, 0);
    } else {
      const out = new Float32Array(this.nlabels);
      if (loss === 'softmax') {
        for (let i = 0; i < out.length; i++) out[i] = dotRow(this.output, h, i);
        let max = out[0]!;
        for (let i = 0; i < out.length; i++) max = Math.max(max, out[i]!);
        let z = 0;
        for (let i = 0; i < out.length; i++) {
          out[i] = Math.exp(out[i]! - max);
          z = Math.fround(z + out[i]!);
        }
        for (let i = 0; i < out.length; i++) out[i] = out[i]! / z;
      } else {
        for (let i = 0; i < out.length; i++) out[i] = tableSigmoid(dotRow(this.output, h, i));
      }
      for (let i = 0; i < out.length; i++) if (out[i]! >= threshold) scored.push({ score: stdLog(out[i]!), index: i });
    }
    // The heap keeps the k best; ties keep the lower index first, like the CLI in practice.
    scored.sort((a, b) => b.score - a.score || a.index - b.index);
    return scored.slice(0, k).map((s) => ({ label: this.labels[s.index]!, index: s.index, prob: Math.fround(Math.exp(s.score)) }));
  }
}
