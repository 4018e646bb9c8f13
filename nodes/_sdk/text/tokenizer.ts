import { Tokenizer } from '@huggingface/tokenizers';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { NodeError } from '../../../engine/sdk/node-error.js';

/**
 * The one tokenizer of the node SDK: a Hugging Face `tokenizer.json` (WordPiece, BPE or Unigram, with
 * its normalizer, pre-tokenizer and post-processor) through the pure-JS `@huggingface/tokenizers`.
 *
 * Two ways in, because two kinds of caller need different views of the same file:
 * - `loadTokenizer(param, baseDir)` for corpus nodes (counting, training, scoring): the file's
 *   truncation/padding are ignored since corpora are counted whole; `builtin:words` counts words and
 *   punctuation without a file (it has no ids, so `encode` refuses it). Memoised by content hash.
 * - `TextTokenizer.fromModelFolder(dir)` for model inputs (embedders): special tokens included,
 *   truncation that keeps the closing special tokens (`encodeForModel`), the pad id from
 *   `tokenizer_config.json`.
 */
export const WORDS = 'builtin:words';

const WORD_RE = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;

/**
 * `tokenizer.json` bytes (and `tokenizer_config.json`, when given) parsed for `new Tokenizer(json, config)`.
 * Errors about tokenizer.json carry `where.file` (callers report the path as the user wrote it).
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

function countWords(text: string): number {
  let n = 0;
  WORD_RE.lastIndex = 0;
  while (WORD_RE.exec(text)) n++;
  return n;
}

interface TokenizerSource {
  /** What the user chose, e.g. `models/tok/tokenizer.json` or `builtin:words`. */
  name: string;
  /** sha256 of tokenizer.json (empty for builtin:words). */
  sha256: string;
  /** Absolute paths of the files loaded. */
  files: string[];
  config: Record<string, unknown>;
  field: string;
}

export class TextTokenizer {
  readonly name: string;
  readonly sha256: string;
  readonly files: string[];
  /** `tokenizer_config.json` as parsed ({} without one). */
  readonly config: Record<string, unknown>;
  /** One more than the largest token id the tokenizer can emit (0 for builtin:words). */
  readonly vocabSize: number;
  /** Special tokens the post-processor adds before / after the text (e.g. [CLS] / [SEP]). */
  readonly prefixLen: number;
  readonly suffixLen: number;
  readonly padId: number;
  private readonly field: string;

  private constructor(
    private readonly tok: Tokenizer | null,
    src: TokenizerSource,
  ) {
    this.name = src.name;
    this.sha256 = src.sha256;
    this.files = src.files;
    this.config = src.config;
    this.field = src.field;
    if (!tok) {
      this.vocabSize = 0;
      this.prefixLen = this.suffixLen = this.padId = 0;
      return;
    }
    this.vocabSize = idSpace(tok);
    const empty: number[] = tok.encode('').ids;
    const bare: number[] = tok.encode('a', { add_special_tokens: false }).ids;
    const full: number[] = tok.encode('a').ids;
    // Locate the text inside the template: what comes before it is the prefix, after it the suffix.
    let at = -1;
    for (let i = 0; i + bare.length <= full.length && at < 0; i++) if (bare.every((v: number, j: number) => full[i + j] === v)) at = i;
    this.prefixLen = at < 0 ? 0 : at;
    this.suffixLen = at < 0 ? Math.max(0, empty.length) : full.length - at - bare.length;
    const padToken = typeof src.config.pad_token === 'string' ? src.config.pad_token : '[PAD]';
    this.padId = tok.token_to_id(padToken) ?? 0;
  }

  /** The built-in word/punctuation counter (no file, no ids). */
  static words(field = 'params.tokenizer'): TextTokenizer {
    return new TextTokenizer(null, { name: WORDS, sha256: '', files: [], config: {}, field });
  }

  /** Builds a tokenizer from parsed files; `forCounting` drops the file's truncation and padding. */
  static fromParsed(parsed: { json: Record<string, unknown>; config: Record<string, unknown> }, src: Omit<TokenizerSource, 'config'>, forCounting: boolean): TextTokenizer {
    const json = forCounting ? { ...parsed.json, truncation: null, padding: null } : parsed.json;
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, parsed.config);
      tok.encode('probe', { add_special_tokens: false });
    } catch (err) {
      throw new NodeError(`tokenizer cannot be loaded: ${(err as Error).message}`, { file: src.name, field: src.field });
    }
    return new TextTokenizer(tok, { ...src, config: parsed.config });
  }

  /** Loads `tokenizer.json` (+ `tokenizer_config.json` if present) from a model folder, for model inputs. */
  static fromModelFolder(dir: string): TextTokenizer {
    const file = join(dir, 'tokenizer.json');
    const field = 'params.model';
    if (!existsSync(file)) throw new NodeError(`no tokenizer.json in the model folder`, { file, field });
    const cfgFile = join(dir, 'tokenizer_config.json');
    const configPath = existsSync(cfgFile) ? cfgFile : undefined;
    const raw = readFileSync(file);
    const parsed = parseTokenizerFiles(raw, configPath, { file, field });
    const sha256 = createHash('sha256').update(raw).digest('hex');
    return TextTokenizer.fromParsed(parsed, { name: file, sha256, files: [file, ...(configPath ? [configPath] : [])], field }, false);
  }

  /** The same tokenizer under the name another param gave it (memo hits share the parsed model). */
  withName(name: string): TextTokenizer {
    return new TextTokenizer(this.tok, { name, sha256: this.sha256, files: this.files, config: this.config, field: this.field });
  }

  /** tokenizer.json's path (model folders). */
  get file(): string {
    return this.files[0] ?? this.name;
  }

  /** Token ids without special tokens. */
  encode(text: string): number[] {
    if (!this.tok) throw new NodeError(`${WORDS} only counts tokens; choose a tokenizer.json for token ids`, { field: this.field });
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  count(text: string): number {
    return this.tok ? this.tok.encode(text, { add_special_tokens: false }).ids.length : countWords(text);
  }

  /** The id of a token string (special tokens included), if the vocabulary has it. */
  tokenToId(token: string): number | undefined {
    return this.tok?.token_to_id(token) ?? undefined;
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
  encodeForModel(text: string, maxLength: number): { ids: Int32Array; truncated: boolean } {
    const tok = this.requireModel();
    const limit = maxLength * 100;
    let ids = tok.encode(text.length > limit ? text.slice(0, limit) : text).ids;
    if (text.length > limit && ids.length <= maxLength) ids = tok.encode(text).ids;
    if (ids.length <= maxLength) return { ids: Int32Array.from(ids), truncated: false };
    const keepTail = Math.min(this.suffixLen, maxLength);
    const out = new Int32Array(maxLength);
    for (let i = 0; i < maxLength - keepTail; i++) out[i] = ids[i]!;
    for (let i = 0; i < keepTail; i++) out[maxLength - keepTail + i] = ids[ids.length - keepTail + i]!;
    return { ids: out, truncated: true };
  }

  tokens(text: string): string[] {
    return this.requireModel().encode(text).tokens;
  }

  private requireModel(): Tokenizer {
    if (!this.tok) throw new NodeError(`${WORDS} has no vocabulary; choose a tokenizer.json`, { field: this.field });
    return this.tok;
  }
}

function resolveFrom(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function tokenizerJsonPath(abs: string): string {
  if (existsSync(abs) && statSync(abs).isDirectory()) return join(abs, 'tokenizer.json');
  return abs;
}

/** The files a tokenizer param reads, for `inputFiles` (so editing them reruns the node). */
export function tokenizerFiles(param: string | undefined, baseDir: string): string[] {
  if (!param || param === WORDS) return [];
  const json = tokenizerJsonPath(resolveFrom(baseDir, param));
  const files = [json];
  const config = join(json, '..', 'tokenizer_config.json');
  if (existsSync(config)) files.push(config);
  return files;
}

/** Memo by content hash, so a sweep of ten trainers parses the file once per thread. */
const loaded = new Map<string, TextTokenizer>();

/** A corpus tokenizer param: `builtin:words`, a `tokenizer.json`, or a folder holding one (relative to `baseDir`). */
export function loadTokenizer(param: string, baseDir: string, field = 'params.tokenizer'): TextTokenizer {
  if (param === WORDS) return TextTokenizer.words(field);
  const [jsonPath, configPath] = tokenizerFiles(param, baseDir) as [string, string | undefined];
  if (!existsSync(jsonPath)) throw new NodeError(`tokenizer not found: ${jsonPath}`, { file: param, field });
  const raw = readFileSync(jsonPath);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const hit = loaded.get(sha256);
  if (hit) return hit.withName(param);
  const parsed = parseTokenizerFiles(raw, configPath, { file: param, field });
  const result = TextTokenizer.fromParsed(parsed, { name: param, sha256, files: [jsonPath, ...(configPath ? [configPath] : [])], field }, true);
  loaded.set(sha256, result);
  return result;
}
