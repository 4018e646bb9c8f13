/**
 * BFCL (Berkeley Function Calling Leaderboard) items → trajectory-like text documents.
 * Each line of a BFCL file is one JSON object: `id`, `question` (turns, each a list of
 * {role, content} messages) and `function` (JSON-schema function docs); multi-turn items name
 * `involved_classes` instead, whose docs live in `multi_turn_func_doc/`. `possible_answer/<same
 * file>` holds `ground_truth` per id: for single-turn items a list of calls
 * `{fn: {arg: [acceptable values…]}}`, for multi-turn items one list of call strings per turn.
 */

export class ItemError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Message {
  role: string;
  content: string;
}

export interface BfclItem {
  id: string;
  line: number;
  turns: Message[][];
  functions: Obj[] | null;
  involvedClasses: string[];
  excluded: string[];
}

/** BFCL's own mapping from multi-turn API classes to their doc files. */
export const CLASS_DOC_FILES: Record<string, string> = {
  GorillaFileSystem: 'gorilla_file_system.json',
  MathAPI: 'math_api.json',
  MessageAPI: 'message_api.json',
  TwitterAPI: 'posting_api.json',
  TicketAPI: 'ticket_api.json',
  TradingBot: 'trading_bot.json',
  TravelAPI: 'travel_booking.json',
  VehicleControlAPI: 'vehicle_control.json',
  WebSearchAPI: 'web_search.json',
  MemoryAPI_kv: 'memory_kv.json',
  MemoryAPI_vector: 'memory_vector.json',
  MemoryAPI_rec_sum: 'memory_rec_sum.json',
};

function parseLine(raw: string, line: number): Obj {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new ItemError(`invalid JSON: ${(err as Error).message}`, line);
  }
  if (!isObj(v)) throw new ItemError('expected a JSON object per line', line);
  return v;
}

/** Parses a BFCL questions file (JSON Lines), checking every field it uses. */
export function parseItems(text: string): BfclItem[] {
  const items: BfclItem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (!raw) continue;
    const line = i + 1;
    const o = parseLine(raw, line);
    if (typeof o.id !== 'string' || !o.id) throw new ItemError('missing field "id" (a string)', line, 'id');
    if (!Array.isArray(o.question)) throw new ItemError('missing field "question" (a list of turns)', line, 'question');
    const turns: Message[][] = o.question.map((turn, t) => {
      // Some older files hold one flat list of messages instead of a list of turns.
      const msgs = Array.isArray(turn) ? turn : [turn];
      return msgs.map((m, j) => {
        if (!isObj(m) || typeof m.role !== 'string' || typeof m.content !== 'string') {
          throw new ItemError(`question[${t}][${j}] needs "role" and "content" strings`, line, `question[${t}][${j}]`);
        }
        return { role: m.role, content: m.content };
      });
    });
    const involvedClasses = Array.isArray(o.involved_classes) ? o.involved_classes.map(String) : [];
    let functions: Obj[] | null = null;
    if (o.function !== undefined) {
      if (!Array.isArray(o.function)) throw new ItemError('"function" must be a list of function docs', line, 'function');
      functions = o.function.map((f, k) => {
        if (!isObj(f) || typeof f.name !== 'string') throw new ItemError(`function[${k}] needs a "name"`, line, `function[${k}].name`);
        return f;
      });
    } else if (involvedClasses.length === 0) {
      throw new ItemError('missing field "function" (a list of function docs) and no "involved_classes"', line, 'function');
    }
    const excluded = Array.isArray(o.excluded_function) ? o.excluded_function.map(String) : [];
    items.push({ id: o.id, line, turns, functions, involvedClasses, excluded });
  }
  return items;
}

/** Parses a possible_answer file: id → ground truth. */
export function parseAnswers(text: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (!raw) continue;
    const o = parseLine(raw, i + 1);
    if (typeof o.id !== 'string') throw new ItemError('missing field "id" (a string)', i + 1, 'id');
    if (o.ground_truth === undefined) throw new ItemError('missing field "ground_truth"', i + 1, 'ground_truth');
    out.set(o.id, o.ground_truth);
  }
  return out;
}

/** A Python-style literal, the way BFCL writes calls. */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (isObj(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyLiteral(k)}: ${pyLiteral(x)}`)
      .join(', ')}}`;
  return String(v);
}

/**
 * Single-turn ground truth → call strings. Each argument lists its acceptable values; the first
 * is used, and an argument whose first option is "" (BFCL: "may be omitted") is left out.
 */
export function callsFromGroundTruth(gt: unknown): string[] {
  if (!Array.isArray(gt)) return [];
  const calls: string[] = [];
  for (const call of gt) {
    if (!isObj(call)) continue;
    for (const [fn, args] of Object.entries(call)) {
      const parts: string[] = [];
      if (isObj(args)) {
        for (const [name, options] of Object.entries(args)) {
          const first = Array.isArray(options) ? options[0] : options;
          if (first === '' || first === undefined) continue;
          parts.push(`${name}=${pyLiteral(first)}`);
        }
      }
      calls.push(`${fn}(${parts.join(', ')})`);
    }
  }
  return calls;
}

/** Ground truth → calls per turn (single-turn items have one turn). */
export function answerTurns(gt: unknown): string[][] {
  if (Array.isArray(gt) && gt.length > 0 && gt.every((t) => Array.isArray(t) && t.every((c) => typeof c === 'string'))) return gt as string[][];
  return [callsFromGroundTruth(gt)];
}

export function functionSignature(f: Obj): string {
  const params = isObj(f.parameters) ? f.parameters : {};
  const props = isObj(params.properties) ? params.properties : {};
  const required = new Set(Array.isArray(params.required) ? params.required.map(String) : []);
  const args = Object.entries(props).map(([n, p]) => {
    const type = isObj(p) ? String(p.type ?? 'any') : 'any';
    const dflt = isObj(p) && p.default !== undefined ? ` = ${pyLiteral(p.default)}` : '';
    return `${n}${required.has(n) ? '' : '?'}: ${type}${dflt}`;
  });
  const lines = [`${String(f.name)}(${args.join(', ')})${f.description ? ` — ${String(f.description).replace(/\s+/g, ' ').trim()}` : ''}`];
  for (const [n, p] of Object.entries(props)) {
    if (isObj(p) && typeof p.description === 'string' && p.description.trim()) lines.push(`  ${n}: ${p.description.replace(/\s+/g, ' ').trim()}`);
  }
  return lines.join('\n');
}

export interface RenderOptions {
  functionFormat: 'json' | 'signature';
  /** Include the ground-truth calls as assistant turns. */
  withAnswers: boolean;
}

/** The document text: the tools, then user turns interleaved with the assistant's calls. */
export function renderItem(functions: Obj[], turns: Message[][], answer: unknown, opts: RenderOptions): string {
  const lines: string[] = [];
  lines.push('Tools:');
  if (opts.functionFormat === 'json') lines.push(JSON.stringify(functions));
  else for (const f of functions) lines.push(functionSignature(f));
  const calls = opts.withAnswers && answer !== undefined ? answerTurns(answer) : [];
  turns.forEach((turn, t) => {
    for (const m of turn) lines.push(`${m.role === 'user' ? 'User' : m.role === 'system' ? 'System' : m.role === 'assistant' ? 'Assistant' : m.role}: ${m.content}`);
    const c = calls[t];
    if (c && c.length > 0) lines.push(`Assistant: ${c.join('; ')}`);
  });
  return lines.join('\n');
}
