import { z } from 'zod';
import type { OutputBuilder } from '../../../engine/sdk/types.js';
import { WORDS, type TextTokenizer } from '../text/tokenizer.js';

/** The tokenizer param as loaders declare it: optional, defaulting to the built-in word counter. */
export const tokenizerParam = z
  .string()
  .min(1)
  .default(WORDS)
  .meta({ title: 'Tokenizer', description: `tokenizer.json (or its folder) used to count tokens; ${WORDS} counts words and punctuation`, widget: 'file' });

/** Loader bookkeeping: documents and tokens per group, written to the manifest and the log. */
export class Counts {
  readonly documents = new Map<string, number>();
  readonly tokens = new Map<string, number>();
  constructor(readonly tokenizer: TextTokenizer) {}

  add(group: string, text: string): number {
    const n = this.tokenizer.count(text);
    this.documents.set(group, (this.documents.get(group) ?? 0) + 1);
    this.tokens.set(group, (this.tokens.get(group) ?? 0) + n);
    return n;
  }

  get totalDocuments(): number {
    return [...this.documents.values()].reduce((a, b) => a + b, 0);
  }

  get totalTokens(): number {
    return [...this.tokens.values()].reduce((a, b) => a + b, 0);
  }

  /** Sets `documents`, `tokens`, `tokenizer` and per-group `documents.<g>` / `tokens.<g>` meta. */
  report(out: OutputBuilder, log: (m: string) => void, label = 'source'): void {
    out.setMeta('documents', this.totalDocuments);
    out.setMeta('tokens', this.totalTokens);
    out.setMeta('tokenizer', this.tokenizer.name);
    const groups = [...this.documents.keys()].sort();
    for (const g of groups) {
      out.setMeta(`documents.${g}`, this.documents.get(g) ?? 0);
      out.setMeta(`tokens.${g}`, this.tokens.get(g) ?? 0);
    }
    const parts = groups.map((g) => `${g}: ${this.documents.get(g)} docs, ${this.tokens.get(g)} tokens`);
    log(`${this.totalDocuments} documents, ${this.totalTokens} tokens (${this.tokenizer.name})${groups.length > 1 ? `; per ${label}: ${parts.join('; ')}` : ''}`);
  }
}
