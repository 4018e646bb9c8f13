import { Tokenizer } from '@huggingface/tokenizers';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { NodeError } from '../../engine/sdk/node-error.js';
import { idSpace, parseTokenizerFiles } from '../_lib/tokenizer.js';

/**
 * Token counting and ids for corpus nodes. A tokenizer param names a Hugging Face `tokenizer.json`
 * (or a folder holding one, with an optional `tokenizer_config.json` beside it), loaded with the
 * pure-JS `@huggingface/tokenizers`. `builtin:words` is a regex word/punctuation splitter for quick
 * counts without a file; it has no vocabulary ids, so trainers refuse it.
 */
export const WORDS = 'builtin:words';

export interface TextTokenizer {
  /** What the user chose, e.g. `models/tok/tokenizer.json` or `builtin:words`. */
  name: string;
  /** sha256 of tokenizer.json (empty for builtin:words). */
  sha256: string;
  /** Size of the id space: largest id + 1, added tokens included (0 for builtin:words). */
  vocabSize: number;
  /** Absolute paths of the files loaded. */
  files: string[];
  /** Token ids without special tokens. */
  encode(text: string): number[];
  count(text: string): number;
  /** The id of a token string (special tokens included), if the vocabulary has it. */
  tokenToId(token: string): number | undefined;
}

const WORD_RE = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;

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

export function loadTokenizer(param: string, baseDir: string, field = 'params.tokenizer'): TextTokenizer {
  if (param === WORDS) {
    return {
      name: WORDS,
      sha256: '',
      vocabSize: 0,
      files: [],
      encode() {
        throw new NodeError('builtin:words only counts tokens; choose a tokenizer.json for token ids', { field });
      },
      tokenToId: () => undefined,
      count(text: string) {
        let n = 0;
        WORD_RE.lastIndex = 0;
        while (WORD_RE.exec(text)) n++;
        return n;
      },
    };
  }
  const [jsonPath, configPath] = tokenizerFiles(param, baseDir) as [string, string | undefined];
  if (!existsSync(jsonPath)) throw new NodeError(`tokenizer not found: ${jsonPath}`, { file: param, field });
  const raw = readFileSync(jsonPath);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const hit = loaded.get(sha256);
  if (hit) return { ...hit, name: param };
  const { json: parsed, config } = parseTokenizerFiles(raw, configPath, { file: param, field });
  // Counting needs every token: the file's truncation/padding are for model inputs, not corpora.
  const json = { ...parsed, truncation: null, padding: null };
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
    tok.encode('probe', { add_special_tokens: false });
  } catch (err) {
    throw new NodeError(`tokenizer cannot be loaded: ${(err as Error).message}`, { file: param, field });
  }
  const result: TextTokenizer = {
    name: param,
    sha256,
    vocabSize: idSpace(tok),
    files: [jsonPath, ...(configPath ? [configPath] : [])],
    encode: (text: string) => tok.encode(text, { add_special_tokens: false }).ids,
    count: (text: string) => tok.encode(text, { add_special_tokens: false }).ids.length,
    tokenToId: (token: string) => tok.token_to_id(token),
  };
  loaded.set(sha256, result);
  return result;
}
