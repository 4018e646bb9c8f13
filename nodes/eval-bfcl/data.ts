import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NodeError } from '../../engine/sdk/node-error.js';
import { ItemError, parseAnswers, parseItems, type Message } from '../source-bfcl/bfcl.js';
import { categoryOf, kindOf, type FunctionDoc, type GroundTruth } from './ast-checker.js';

export interface BfclCase {
  id: string;
  category: string;
  /** The question's messages, all turns flattened (single-turn categories have one turn). */
  messages: Message[];
  functions: FunctionDoc[];
  answer: GroundTruth | undefined;
}

/** BFCL question files in a folder (or one file), keeping the categories the AST checker scores. */
export function bfclFiles(path: string): string[] {
  if (!existsSync(path)) throw new NodeError(`BFCL data not found: ${path}`, { file: path, field: 'params.path' });
  if (statSync(path).isFile()) return [path];
  return readdirSync(path)
    .filter((f) => /^BFCL_v\d+_.+\.json$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** Loads the scoreable items of BFCL files with their possible_answer ground truth. */
export function loadCases(files: string[], categories: readonly string[]): { cases: BfclCase[]; skipped: Map<string, number> } {
  const cases: BfclCase[] = [];
  const skipped = new Map<string, number>();
  for (const file of files) {
    let items;
    let answers = new Map<string, unknown>();
    try {
      items = parseItems(readFileSync(file, 'utf8'));
      const af = join(dirname(file), 'possible_answer', basename(file));
      if (existsSync(af)) answers = parseAnswers(readFileSync(af, 'utf8'));
    } catch (err) {
      if (err instanceof ItemError) throw new NodeError(err.message, { file, line: err.line, field: err.field });
      throw err;
    }
    for (const it of items) {
      const category = categoryOf(it.id);
      if (categories.length > 0 && !categories.includes(category)) continue;
      const kind = kindOf(category);
      const answer = answers.get(it.id) as GroundTruth | undefined;
      if (kind === 'unsupported' || !it.functions || ((kind === 'simple' || kind === 'multiple' || kind === 'parallel') && !answer)) {
        skipped.set(category, (skipped.get(category) ?? 0) + 1);
        continue;
      }
      cases.push({ id: it.id, category, messages: it.turns.flat(), functions: it.functions as unknown as FunctionDoc[], answer });
    }
  }
  return { cases, skipped };
}
