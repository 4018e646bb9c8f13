import { readFileSync } from 'node:fs';
import { NodeError } from '../../engine/sdk/node-error.js';
import type { Call } from './ast-checker.js';
import type { Generation } from './endpoint.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Model outputs from a JSONL file, one item per line: `{"id", "calls": [{"name", "arguments"}]}`
 * (arguments an object or a JSON string, as tools APIs return them) or BFCL's own result shape
 * `{"id", "result": [{"fn": {args}}]}`. A line that names an id but no readable calls is a decode
 * error for that item; a line that is not JSON is an error naming the file and line.
 */
export function readOutputsJsonl(file: string): Map<string, Generation> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new NodeError(`model outputs not found: ${file}`, { file, field: 'params.outputs' });
  }
  const out = new Map<string, Generation>();
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch (err) {
      throw new NodeError(`invalid JSON: ${(err as Error).message}`, { file, line: i + 1 });
    }
    if (!isObj(o) || typeof o.id !== 'string') throw new NodeError('each line needs an "id" string', { file, line: i + 1, field: 'id' });
    out.set(o.id, decode(o));
  });
  return out;
}

function decode(o: Obj): Generation {
  const calls: Call[] = [];
  if (Array.isArray(o.calls)) {
    for (const c of o.calls) {
      if (!isObj(c) || typeof c.name !== 'string') return { calls, decodeError: 'a call without "name"' };
      let args: unknown = c.arguments ?? {};
      if (typeof args === 'string') {
        try {
          args = JSON.parse(args);
        } catch {
          return { calls, decodeError: `arguments of ${c.name} are not JSON` };
        }
      }
      if (!isObj(args)) return { calls, decodeError: `arguments of ${c.name} are not an object` };
      calls.push({ name: c.name, args });
    }
    return { calls };
  }
  if (Array.isArray(o.result)) {
    for (const r of o.result) {
      const entry = isObj(r) ? Object.entries(r)[0] : undefined;
      if (!entry || !isObj(entry[1])) return { calls, decodeError: 'a result entry is not {"fn": {args}}' };
      calls.push({ name: entry[0], args: entry[1] });
    }
    return { calls };
  }
  return { calls, decodeError: typeof o.result === 'string' ? `not a call: ${o.result.slice(0, 80)}` : 'no "calls" or "result"' };
}
