// A generated web-like pool for the scale benches: ~120-word pages from a Zipf-like 30k vocabulary, a
// tenth agent-like API text, a tenth near copies of recent documents (deterministic per seed).
import { createWriteStream, statSync } from 'node:fs';
import { mulberry32 } from '../../nodes/_sdk/rng.js';

const general = Array.from({ length: 30_000 }, (_, i) => `w${(i * 2654435761) % 1_000_003}`);
const api = [
  'function',
  'param',
  'returns',
  'string',
  'int',
  'required',
  'optional',
  'api',
  'call',
  'arguments',
  'json',
  'endpoint',
  'request',
  'response',
  'type',
  'default',
  'list',
  'dict',
  'query',
  'model',
];
const apiNames = Array.from({ length: 3000 }, (_, i) => `get_${general[(i * 7) % general.length]}`);

/**
 * Writes `n` JSONL documents `{ id, text, source }`; `kind` picks general pages, agent-like API text,
 * or a mix with near copies. Returns the file's size in bytes.
 */
export async function writeWebPool(file: string, n: number, kind: 'pool' | 'seeds' | 'general', seed: number): Promise<number> {
  const rand = mulberry32(seed);
  const zipf = (xs: readonly string[]) => xs[Math.floor(xs.length * rand() ** 3)] as string;
  const page = () => Array.from({ length: 120 }, () => zipf(general)).join(' ');
  const apiDoc = () => Array.from({ length: 80 }, (_, k) => (k % 3 === 0 ? zipf(apiNames) : k % 3 === 1 ? (api[Math.floor(rand() * api.length)] as string) : zipf(general))).join(' ');
  const out = createWriteStream(file);
  const recent: string[] = [];
  for (let i = 0; i < n; i++) {
    let text: string;
    const r = rand();
    if (kind === 'seeds') text = apiDoc();
    else if (kind === 'general') text = page();
    else if (r < 0.1 && recent.length > 0) text = `${recent[Math.floor(rand() * recent.length)] as string} edited`;
    else text = r < 0.2 ? apiDoc() : page();
    if (recent.length < 1000) recent.push(text);
    else recent[Math.floor(rand() * 1000)] = text;
    if (!out.write(`${JSON.stringify({ id: `${kind}${i}`, text, source: kind })}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
  }
  await new Promise<void>((res) => out.end(res));
  return statSync(file).size;
}
