import { createReadStream } from 'node:fs';

export interface LineProblem {
  line: number;
  field?: string;
  message: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Finds the first line of a JSON Lines file that a loader cannot use, with a 1-based line number.
 * Only called after DuckDB has rejected a file (or a column has the wrong type), so the happy path
 * never pays for a second pass; DuckDB's own messages count records, not lines.
 */
export async function diagnoseJsonl(path: string, requiredString?: string): Promise<LineProblem | null> {
  let line = 0;
  let pending = Buffer.alloc(0);
  const check = (raw: Buffer): LineProblem | null => {
    line++;
    let bytes = raw;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      return { line, message: `invalid UTF-8 at byte ${at + 1} of the line` };
    }
    if (text.trim() === '') return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { line, message: `not valid JSON: ${(err as Error).message}` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { line, message: `expected a JSON object, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}` };
    }
    if (requiredString !== undefined) {
      const v = (value as Record<string, unknown>)[requiredString];
      if (v === undefined) return { line, field: requiredString, message: `field "${requiredString}" is missing` };
      if (typeof v !== 'string') return { line, field: requiredString, message: `field "${requiredString}" should be a string, found ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}` };
    }
    return null;
  };
  for await (const chunk of createReadStream(path)) {
    let buf = Buffer.concat([pending, chunk as Buffer]);
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const problem = check(buf.subarray(0, nl));
      if (problem) return problem;
      buf = buf.subarray(nl + 1);
    }
    pending = buf;
  }
  if (pending.length > 0) {
    const problem = check(pending);
    if (problem) return problem.message.startsWith('not valid JSON') ? { ...problem, message: `${problem.message} (the file may be truncated)` } : problem;
  }
  return null;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return i;
}
