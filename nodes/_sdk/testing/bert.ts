import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxGraph } from '../onnx/graph.js';
import { Rng } from '../rng.js';

/**
 * A BERT-architecture encoder with random weights, written as an ordinary ONNX model with the
 * inputs and output name of a Hugging Face export (`input_ids`, `attention_mask`,
 * `token_type_ids` → `last_hidden_state`). Tests use tiny ones with the real MiniLM tokenizer; the
 * embedder benchmark uses a MiniLM-L6-sized one, whose compute cost is that of the real model.
 */

export interface BertConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPosition: number;
  typeVocab?: number;
  layerNormEps?: number;
  seed?: number;
}

/** The weights, so a test can run a reference forward pass in plain TypeScript. */
export interface BertWeights {
  cfg: Required<BertConfig>;
  word: Float32Array;
  pos: Float32Array;
  type: Float32Array;
  embLn: [Float32Array, Float32Array];
  layers: {
    wq: Float32Array;
    bq: Float32Array;
    wk: Float32Array;
    bk: Float32Array;
    wv: Float32Array;
    bv: Float32Array;
    wo: Float32Array;
    bo: Float32Array;
    ln1: [Float32Array, Float32Array];
    w1: Float32Array;
    b1: Float32Array;
    w2: Float32Array;
    b2: Float32Array;
    ln2: [Float32Array, Float32Array];
  }[];
}

export function randomBertWeights(config: BertConfig): BertWeights {
  const cfg: Required<BertConfig> = { typeVocab: 2, layerNormEps: 1e-12, seed: 0, ...config };
  const rng = new Rng(cfg.seed);
  const normal = (n: number, std = 0.02) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
    return a;
  };
  const ln = (): [Float32Array, Float32Array] => [Float32Array.from({ length: cfg.hidden }, () => 1 + rng.normal() * 0.05), normal(cfg.hidden)];
  const H = cfg.hidden;
  const I = cfg.intermediate;
  return {
    cfg,
    word: normal(cfg.vocabSize * H),
    pos: normal(cfg.maxPosition * H),
    type: normal(cfg.typeVocab * H),
    embLn: ln(),
    layers: Array.from({ length: cfg.layers }, () => ({
      wq: normal(H * H),
      bq: normal(H),
      wk: normal(H * H),
      bk: normal(H),
      wv: normal(H * H),
      bv: normal(H),
      wo: normal(H * H),
      bo: normal(H),
      ln1: ln(),
      w1: normal(H * I),
      b1: normal(I),
      w2: normal(I * H),
      b2: normal(H),
      ln2: ln(),
    })),
  };
}

export function bertToOnnx(w: BertWeights): Uint8Array {
  const { cfg } = w;
  const H = cfg.hidden;
  const dh = H / cfg.heads;
  if (!Number.isInteger(dh)) throw new Error('hidden size must be divisible by heads');
  const g = new OnnxGraph('bert');
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'sequence']);
  const types = g.input('token_type_ids', 'int64', ['batch', 'sequence']);
  const word = g.op('Gather', [g.init('embeddings.word', w.word, [cfg.vocabSize, H]), ids], { axis: 0 });
  const seqLen = g.op('Gather', [g.op('Shape', [ids]), g.ints([1], [])], { axis: 0 });
  const positions = g.op('Range', [g.ints([0], []), seqLen, g.ints([1], [])]);
  const pos = g.op('Gather', [g.init('embeddings.position', w.pos, [cfg.maxPosition, H]), positions], { axis: 0 });
  const typ = g.op('Gather', [g.init('embeddings.token_type', w.type, [cfg.typeVocab, H]), types], { axis: 0 });
  const layerNorm = (x: string, p: [Float32Array, Float32Array], name: string) =>
    g.op('LayerNormalization', [x, g.init(`${name}.gamma`, p[0], [H]), g.init(`${name}.beta`, p[1], [H])], { axis: -1, epsilon: { float: cfg.layerNormEps } });
  let x = layerNorm(g.op('Add', [g.op('Add', [word, pos]), typ]), w.embLn, 'embeddings.ln');
  const maskF = g.op('Cast', [mask], { to: 1 });
  const maskAdd = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.floats([1], []), maskF]), g.floats([-10000], [])]), g.ints([1, 2])]);
  const heads = g.ints([0, 0, cfg.heads, dh]);
  const merge = g.ints([0, 0, H]);
  const scale = g.floats([1 / Math.sqrt(dh)], []);
  w.layers.forEach((L, i) => {
    const p = `layer${i}`;
    const lin = (input: string, W: Float32Array, b: Float32Array, n: string, rows: number, cols: number) =>
      g.op('Add', [g.op('MatMul', [input, g.init(`${p}.${n}.weight`, W, [rows, cols])]), g.init(`${p}.${n}.bias`, b, [cols])]);
    const q = g.op('Transpose', [g.op('Reshape', [lin(x, L.wq, L.bq, 'query', H, H), heads])], { perm: [0, 2, 1, 3] });
    const k = g.op('Transpose', [g.op('Reshape', [lin(x, L.wk, L.bk, 'key', H, H), heads])], { perm: [0, 2, 3, 1] });
    const v = g.op('Transpose', [g.op('Reshape', [lin(x, L.wv, L.bv, 'value', H, H), heads])], { perm: [0, 2, 1, 3] });
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), maskAdd]);
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v])], { perm: [0, 2, 1, 3] }), merge]);
    x = layerNorm(g.op('Add', [x, lin(ctx, L.wo, L.bo, 'attention.output', H, H)]), L.ln1, `${p}.ln1`);
    const h1 = lin(x, L.w1, L.b1, 'intermediate', H, cfg.intermediate);
    const gelu = g.op('Mul', [g.op('Mul', [h1, g.floats([0.5], [])]), g.op('Add', [g.op('Erf', [g.op('Div', [h1, g.floats([Math.SQRT2], [])])]), g.floats([1], [])])]);
    x = layerNorm(g.op('Add', [x, lin(gelu, L.w2, L.b2, 'output', cfg.intermediate, H)]), L.ln2, `${p}.ln2`);
  });
  g.op('Identity', [x], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch', 'sequence', H]);
  return g.encode({ docString: 'random-weight BERT encoder (Forge Studio test/bench model)' });
}

/** Hugging Face `config.json` fields for the model. */
export function bertConfigJson(cfg: Required<BertConfig>): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: cfg.hidden,
    num_hidden_layers: cfg.layers,
    num_attention_heads: cfg.heads,
    intermediate_size: cfg.intermediate,
    max_position_embeddings: cfg.maxPosition,
    type_vocab_size: cfg.typeVocab,
    vocab_size: cfg.vocabSize,
    layer_norm_eps: cfg.layerNormEps,
    hidden_act: 'gelu',
  };
}

/**
 * Writes a sentence-transformer-style folder: tokenizer files copied from `tokenizerDir`,
 * `config.json`, and the model at `model.onnx` (or `onnx/model.onnx`, the layout transformers.js reads).
 */
export function writeBertFolder(dir: string, w: BertWeights, tokenizerDir: string, opts: { onnxSubfolder?: boolean; modelMaxLength?: number } = {}): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
    if (existsSync(join(tokenizerDir, f))) copyFileSync(join(tokenizerDir, f), join(dir, f));
  }
  if (opts.modelMaxLength !== undefined) {
    const cfgFile = join(dir, 'tokenizer_config.json');
    const cfg = existsSync(cfgFile) ? (JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>) : {};
    cfg.model_max_length = opts.modelMaxLength;
    writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(bertConfigJson(w.cfg), null, 2));
  const modelPath = opts.onnxSubfolder ? join(dir, 'onnx', 'model.onnx') : join(dir, 'model.onnx');
  mkdirSync(join(modelPath, '..'), { recursive: true });
  writeFileSync(modelPath, bertToOnnx(w));
  return modelPath;
}

/** Reference forward pass in plain TypeScript (float64), for checking the ONNX graph in tests. */
export function bertReference(w: BertWeights, ids: readonly number[]): Float64Array[] {
  const { cfg } = w;
  const H = cfg.hidden;
  const L = ids.length;
  const dh = H / cfg.heads;
  const ln = (x: Float64Array, p: [Float32Array, Float32Array]) => {
    let m = 0;
    for (const v of x) m += v;
    m /= H;
    let s = 0;
    for (const v of x) s += (v - m) ** 2;
    const inv = 1 / Math.sqrt(s / H + cfg.layerNormEps);
    return Float64Array.from(x, (v, j) => (v - m) * inv * p[0][j]! + p[1][j]!);
  };
  const lin = (x: Float64Array, W: Float32Array, b: Float32Array, rows: number, cols: number) => {
    const out = Float64Array.from(b);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] = out[c]! + x[r]! * W[r * cols + c]!;
    return out;
  };
  let xs = ids.map((id, t) =>
    ln(
      Float64Array.from({ length: H }, (_, j) => w.word[id * H + j]! + w.pos[t * H + j]! + w.type[j]!),
      w.embLn,
    ),
  );
  for (const layer of w.layers) {
    const q = xs.map((x) => lin(x, layer.wq, layer.bq, H, H));
    const k = xs.map((x) => lin(x, layer.wk, layer.bk, H, H));
    const v = xs.map((x) => lin(x, layer.wv, layer.bv, H, H));
    const ctx = xs.map(() => new Float64Array(H));
    for (let h = 0; h < cfg.heads; h++) {
      for (let i = 0; i < L; i++) {
        const sc = Array.from({ length: L }, (_, j) => {
          let d = 0;
          for (let e = 0; e < dh; e++) d += q[i]![h * dh + e]! * k[j]![h * dh + e]!;
          return d / Math.sqrt(dh);
        });
        const mx = Math.max(...sc);
        const ex = sc.map((s) => Math.exp(s - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < L; j++) for (let e = 0; e < dh; e++) ctx[i]![h * dh + e] = ctx[i]![h * dh + e]! + (ex[j]! / z) * v[j]![h * dh + e]!;
      }
    }
    xs = xs.map((x, i) =>
      ln(
        Float64Array.from(lin(ctx[i]!, layer.wo, layer.bo, H, H), (a, j) => a + x[j]!),
        layer.ln1,
      ),
    );
    xs = xs.map((x) => {
      const h1 = lin(x, layer.w1, layer.b1, H, cfg.intermediate).map((a) => 0.5 * a * (1 + erf(a / Math.SQRT2)));
      return ln(
        Float64Array.from(lin(h1, layer.w2, layer.b2, cfg.intermediate, H), (a, j) => a + x[j]!),
        layer.ln2,
      );
    });
  }
  return xs;
}

/** Abramowitz–Stegun 7.1.26 is too coarse for 1e-5 checks; use a series/continued-fraction erf. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  if (a < 2.5) {
    // Taylor series.
    let sum = a;
    let term = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  // Continued fraction for erfc.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  return s * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
}
