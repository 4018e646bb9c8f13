// What the file-corpus sources (source.api-docs, source.openapi, source.bfcl) share: each reads the
// files a `path` param names (a file, a folder narrowed by `include`, or a glob) and counts documents
// and tokens with the `tokenizer` param. Only how a file becomes documents differs.
import { NodeError } from '../../engine/sdk/node-error.js';
import { Counts } from './dataset/counting.js';
import { expandPath } from './files.js';
import { loadTokenizer, tokenizerFiles } from './text/tokenizer.js';

export interface CorpusFileParams {
  path: string;
  include: string;
  tokenizer: string;
}

/** The corpus files plus the tokenizer's: what the source reads, so editing any of them reruns it. */
export function corpusInputFiles(p: CorpusFileParams, baseDir: string, extra: string[] = []): string[] {
  return [...expandPath(p.path, baseDir, p.include), ...extra, ...tokenizerFiles(p.tokenizer, baseDir)];
}

/**
 * The files to read (an empty match is an error naming the `path` param; `what` says what was looked
 * for, e.g. "spec files") and the document/token counter for the manifest.
 */
export function openCorpus(p: CorpusFileParams, baseDir: string, what: string): { files: string[]; counts: Counts } {
  const files = expandPath(p.path, baseDir, p.include);
  if (files.length === 0) throw new NodeError(`no ${what} at ${p.path}`, { file: p.path, field: 'path' });
  return { files, counts: new Counts(loadTokenizer(p.tokenizer, baseDir)) };
}
