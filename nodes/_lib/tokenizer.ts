import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeError } from '../../engine/sdk/node-error.js';

/**
 * `tokenizer.json` bytes (and `tokenizer_config.json`, when given) parsed for `new Tokenizer(json, config)`.
 * Shared by model inputs (here) and corpus token counting (`nodes/_corpus/tokenizer.ts`). Errors about
 * tokenizer.json carry `where.file` (callers report the path as the user wrote it).
 */
export function parseTokenizerFiles(raw: Uint8Array, configPath: string | undefined, where: { file: string; field: string }): { json: Record<string, unknown>; config: Record<string, unknown> } {
  const parse = (file: string, name: string, text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new NodeError(`${name} is not valid JSON: ${(err as Error).message}`, { file, field: where.field });
    }
  };
  const json = parse(where.file, 'tokenizer.json', new TextDecoder().decode(raw));
  if (!json || typeof json !== 'object' || !('model' in json) || !json.model || typeof json.model !== 'object') {
    throw new NodeError('not a Hugging Face tokenizer.json (no "model" section)', { file: where.file, field: 'model' });
  }
  const config = configPath ? parse(configPath, 'tokenizer_config.json', readFileSync(configPath, 'utf8')) : {};
  return { json: json as Record<string, unknown>, config: config && typeof config === 'object' ? (config as Record<string, unknown>) : {} };
}

/** Largest token id + 1, added tokens included: ids can have gaps, and models index by id. */
export function idSpace(tok: Tokenizer): number {
  let maxId = -1;
  for (const id of tok.get_vocab(true).values()) if (id > maxId) maxId = id;
  return maxId + 1;
}

/**
 * A Hugging Face `tokenizer.json` (WordPiece, BPE or Unigram, with its normalizer, pre-tokenizer and
 * post-processor) through `@huggingface/tokenizers`, plus what that library leaves out: truncation
 * to a maximum length that keeps the closing special tokens, and a cheap guard against tokenising
 * megabytes of text only to keep the first few hundred tokens.
 */
export class TextTokenizer {
  /** One more than the largest token id the tokenizer can emit (vocabulary plus added tokens). */
  readonly vocabSize: number;
  /** Special tokens the post-processor adds before / after the text (e.g. [CLS] / [SEP]). */
  readonly prefixLen: number;
  readonly suffixLen: number;
  readonly padId: number;

  private constructor(
    private readonly tok: Tokenizer,
    readonly config: Record<string, unknown>,
    readonly file: string,
  ) {
    this.vocabSize = idSpace(tok);
    const empty: number[] = tok.encode('').ids;
    const bare: number[] = tok.encode('a', { add_special_tokens: false }).ids;
    const full: number[] = tok.encode('a').ids;
    // Locate the text inside the template: what comes before it is the prefix, after it the suffix.
    let at = -1;
    for (let i = 0; i + bare.length <= full.length && at < 0; i++) if (bare.every((v: number, j: number) => full[i + j] === v)) at = i;
    this.prefixLen = at < 0 ? 0 : at;
    this.suffixLen = at < 0 ? Math.max(0, empty.length) : full.length - at - bare.length;
    const padToken = typeof config.pad_token === 'string' ? config.pad_token : '[PAD]';
    this.padId = tok.token_to_id(padToken) ?? 0;
  }

  /** Loads `tokenizer.json` (+ `tokenizer_config.json` if present) from a model folder. */
  static load(dir: string): TextTokenizer {
    const file = join(dir, 'tokenizer.json');
    if (!existsSync(file)) throw new NodeError(`no tokenizer.json in the model folder`, { file, field: 'params.model' });
    const cfgFile = join(dir, 'tokenizer_config.json');
    const { json, config } = parseTokenizerFiles(readFileSync(file), existsSync(cfgFile) ? cfgFile : undefined, { file, field: 'params.model' });
    try {
      return new TextTokenizer(new Tokenizer(json, config), config, file);
    } catch (err) {
      throw new NodeError(`tokenizer.json could not be loaded: ${(err as Error).message}`, { file, field: 'params.model' });
    }
  }

  /** The truncation length declared by the tokenizer files, if any. */
  declaredMaxLength(): number | undefined {
    const m = this.config.model_max_length;
    // Tokenizers without a limit store a huge sentinel (1e30).
    return typeof m === 'number' && m > 0 && m < 1e6 ? m : undefined;
  }

  /**
   * Token ids of one text with special tokens, truncated to `maxLength` (keeping the closing special
   * tokens). Texts longer than 100 characters per allowed token are cut before tokenising; if the cut
   * text turns out shorter than `maxLength` tokens, the whole text is tokenised, so the result is exact.
   */
  encode(text: string, maxLength: number): { ids: Int32Array; truncated: boolean } {
    const limit = maxLength * 100;
    let ids = this.tok.encode(text.length > limit ? text.slice(0, limit) : text).ids;
    if (text.length > limit && ids.length <= maxLength) ids = this.tok.encode(text).ids;
    if (ids.length <= maxLength) return { ids: Int32Array.from(ids), truncated: false };
    const keepTail = Math.min(this.suffixLen, maxLength);
    const out = new Int32Array(maxLength);
    for (let i = 0; i < maxLength - keepTail; i++) out[i] = ids[i]!;
    for (let i = 0; i < keepTail; i++) out[maxLength - keepTail + i] = ids[ids.length - keepTail + i]!;
    return { ids: out, truncated: true };
  }

  tokens(text: string): string[] {
    return this.tok.encode(text).tokens;
  }
}
