import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxGraph } from '../onnx/graph.js';

/**
 * A model whose embeddings can be computed by hand: a WordPiece tokenizer over the words a..d and
 * an ONNX graph whose "last hidden state" is just a lookup table, row(id) = [id, 1, 0]. So the
 * mean-pooled embedding of a text is [mean of its token ids (with [CLS]=2 and [SEP]=3), 1, 0].
 */
export const HAND_VOCAB: Record<string, number> = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, a: 4, b: 5, c: 6, d: 7 };

export function handTokenizerJson(vocab: Record<string, number> = HAND_VOCAB): Record<string, unknown> {
  const special = (content: string) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/** Writes the hand model folder. `rows` overrides the table (e.g. fewer rows, or a NaN row). */
export function writeHandModel(dir: string, opts: { table?: Float32Array; rows?: number } = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(handTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 16, pad_token: '[PAD]' }));
  const rows = opts.rows ?? 8;
  const table = opts.table ?? Float32Array.from({ length: rows * 3 }, (_, i) => (i % 3 === 0 ? i / 3 : i % 3 === 1 ? 1 : 0));
  const g = new OnnxGraph('lookup');
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  g.op('Gather', [g.init('table', table, [table.length / 3, 3]), ids], { axis: 0 }, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch', 'sequence', 3]);
  writeFileSync(join(dir, 'model.onnx'), g.encode());
  return dir;
}
