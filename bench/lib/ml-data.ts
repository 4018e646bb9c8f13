import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../nodes/_sdk/rng.js';
import { REPO_ROOT } from './report.js';

/**
 * Real texts for the ML benchmarks, from the shared sample data next to the repository
 * (`../shared/datasets`, see its README): Gorilla API documentation records, BFCL function-calling
 * questions, and Project Gutenberg paragraphs — the mix of long, short and medium documents that a
 * Hephaestus-style pipeline embeds and classifies.
 */
export const SHARED_DATASETS = join(REPO_ROOT, '..', 'shared', 'datasets');
export const SHARED_MODELS = join(REPO_ROOT, '..', 'shared', 'models');

function jsonl(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A few records in the upstream files are not valid JSON; skip them.
    }
  }
  return out;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Gorilla API docs as text: every field, as the record reads. */
export function apiDocs(): { text: string; domain: string; hub: string }[] {
  const dir = join(SHARED_DATASETS, 'agent', 'gorilla-api-docs');
  const out: { text: string; domain: string; hub: string }[] = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('_api.jsonl'))
    .sort()) {
    for (const r of jsonl(join(dir, f))) {
      const text = oneLine(
        Object.entries(r)
          .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('\n'),
      );
      out.push({ text, domain: String(r.domain ?? ''), hub: f.replace('_api.jsonl', '') });
    }
  }
  return out;
}

/** BFCL user questions (short agent requests). */
export function bfclQuestions(): string[] {
  const dir = join(SHARED_DATASETS, 'agent', 'bfcl');
  const out: string[] = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.startsWith('BFCL_v4_') && f.endsWith('.json'))
    .sort()) {
    for (const r of jsonl(join(dir, f))) {
      const q = r.question as { role: string; content: string }[][] | undefined;
      const content = q?.flat().find((m) => m.role === 'user')?.content;
      if (content) out.push(oneLine(content));
    }
  }
  return out;
}

/** Gutenberg paragraphs of at least `minChars`, without the licence header/footer. */
export function proseParagraphs(minChars = 200): string[] {
  const dir = join(SHARED_DATASETS, 'general', 'gutenberg');
  const out: string[] = [];
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()) {
    let t = readFileSync(join(dir, f), 'utf8');
    const s = t.indexOf('*** START');
    const e = t.indexOf('*** END');
    if (s >= 0 && e > s) t = t.slice(t.indexOf('\n', s), e);
    for (const p of t.split(/\n\s*\n/)) if (p.length >= minChars) out.push(oneLine(p));
  }
  return out;
}

/** n texts: a third each of API docs, BFCL questions and prose, shuffled with a fixed seed. */
export function mixedTexts(n: number, seed = 1): string[] {
  const rng = new Rng(seed);
  const pick = (xs: string[], k: number) => rng.shuffle([...xs]).slice(0, k);
  const k = Math.ceil(n / 3);
  return rng
    .shuffle([
      ...pick(
        apiDocs().map((d) => d.text),
        k,
      ),
      ...pick(bfclQuestions(), k),
      ...pick(proseParagraphs(), k),
    ])
    .slice(0, n);
}

export function sharedDataAvailable(): boolean {
  return existsSync(join(SHARED_DATASETS, 'agent')) && existsSync(join(SHARED_DATASETS, 'general'));
}
