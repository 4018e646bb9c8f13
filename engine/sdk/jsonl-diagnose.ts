import { closeSync, createReadStream, openSync, readSync } from 'node:fs';

export interface LineProblem {
  line: number;
  field?: string;
  message: string;
}

/** A field every record must have: `string` for text (must be a string), otherwise any non-null value (ids). */
export interface FieldRequirement {
  field: string;
  string: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Lines longer than this are refused rather than parsed: no record a loader accepts is that long. */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

export class LineTooLongError extends Error {
  constructor(readonly line: number) {
    super(`line ${line} is longer than ${MAX_LINE_BYTES / (1024 * 1024)} MiB; records are at most that long`);
    this.name = 'LineTooLongError';
  }
}

/**
 * Calls `visit` with each line of a file (without its `\n`, with a trailing `\r` removed) and its
 * 1-based number, streaming, until `visit` returns something; `last` is true for a final line that
 * has no newline after it. These scans run only after something has already gone wrong, so the
 * happy path never pays for a second pass over the file. Linear in the file size: a long line is
 * kept as a list of chunks and each byte is searched for a newline once; a line over
 * MAX_LINE_BYTES throws LineTooLongError as soon as it gets there.
 */
export async function scanLines<T>(path: string, visit: (bytes: Buffer, line: number, last: boolean) => T | null): Promise<T | null> {
  let line = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const strip = (raw: Buffer) => (raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw);
  const take = (tail: Buffer): Buffer => {
    const whole = pending.length === 0 ? tail : Buffer.concat([...pending, tail], pendingBytes + tail.length);
    pending = [];
    pendingBytes = 0;
    return whole;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(0x0a, start)) >= 0) {
      if (pendingBytes + (nl - start) > MAX_LINE_BYTES) throw new LineTooLongError(line + 1);
      const found = visit(strip(take(buf.subarray(start, nl))), ++line, false);
      if (found !== null) return found;
      start = nl + 1;
    }
    if (start < buf.length) {
      pending.push(buf.subarray(start));
      pendingBytes += buf.length - start;
      if (pendingBytes > MAX_LINE_BYTES) throw new LineTooLongError(line + 1);
    }
  }
  if (pendingBytes > 0) return visit(strip(take(Buffer.alloc(0))), ++line, true);
  return null;
}

/** A scan that reports an overlong line as the problem it found, with its number. */
async function scanForProblem(path: string, visit: (bytes: Buffer, line: number, last: boolean) => LineProblem | null): Promise<LineProblem | null> {
  try {
    return await scanLines(path, visit);
  } catch (err) {
    if (err instanceof LineTooLongError) return { line: err.line, message: err.message };
    throw err;
  }
}

/** Decodes one line as UTF-8, or says where its first invalid byte is. */
export function decodeLine(bytes: Buffer, line: number): { text: string } | { problem: LineProblem } {
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    return { problem: { line, message: `invalid UTF-8 at byte ${firstInvalidUtf8(bytes) + 1} of the line` } };
  }
}

/** The first line of a text file that is not valid UTF-8, if any. */
export function findInvalidUtf8(path: string): Promise<LineProblem | null> {
  return scanForProblem(path, (bytes, line) => {
    const decoded = decodeLine(bytes, line);
    return 'problem' in decoded ? decoded.problem : null;
  });
}

/**
 * Finds the first line of a JSON Lines file that a loader cannot use, with a 1-based line number.
 * Only called after DuckDB has rejected a file (or a column has the wrong type), so the happy path
 * never pays for a second pass; DuckDB's own messages count records, not lines.
 */
export function diagnoseJsonl(path: string, required?: string | FieldRequirement): Promise<LineProblem | null> {
  const req = typeof required === 'string' ? { field: required, string: true } : required;
  return scanForProblem(path, (bytes, line, last) => {
    const decoded = decodeLine(bytes, line);
    if ('problem' in decoded) return decoded.problem;
    const text = decoded.text;
    if (text.trim() === '') return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { line, message: `not valid JSON: ${(err as Error).message}${last ? ' (the file may be truncated)' : ''}` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { line, message: `expected a JSON object, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}` };
    }
    if (req !== undefined) {
      const v = (value as Record<string, unknown>)[req.field];
      if (v === undefined) return { line, field: req.field, message: `field "${req.field}" is missing` };
      if (req.string && typeof v !== 'string') {
        return { line, field: req.field, message: `field "${req.field}" should be a string, found ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}` };
      }
      if (v === null) return { line, field: req.field, message: `field "${req.field}" is null` };
    }
    return null;
  });
}

/**
 * Whether a .json file holds one JSON array rather than JSON Lines: its lines are not records, so
 * line diagnosis does not apply to it.
 */
export function startsWithJsonArray(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const head = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    return head.startsWith('[');
  } finally {
    closeSync(fd);
  }
}

/** Where an id occurs for the first and the second time in a JSON Lines file (ids compared as text, as the loader casts them). */
export async function locateDuplicateJsonl(path: string, idField: string, id: string): Promise<{ line: number; firstLine: number } | null> {
  let firstLine: number | undefined;
  return scanLinesUpTo(path, (bytes, line) => {
    const decoded = decodeLine(bytes, line);
    if ('problem' in decoded || decoded.text.trim() === '') return null;
    let value: unknown;
    try {
      value = JSON.parse(decoded.text);
    } catch {
      return null;
    }
    if (value === null || typeof value !== 'object') return null;
    const v = (value as Record<string, unknown>)[idField];
    if (v === undefined || v === null || idText(v) !== id) return null;
    if (firstLine === undefined) {
      firstLine = line;
      return null;
    }
    return { line, firstLine };
  });
}

/** Like scanLines, but an overlong line ends the search with nothing found (the caller has its own error). */
async function scanLinesUpTo<T>(path: string, visit: (bytes: Buffer, line: number, last: boolean) => T | null): Promise<T | null> {
  try {
    return await scanLines(path, visit);
  } catch (err) {
    if (err instanceof LineTooLongError) return null;
    throw err;
  }
}

function idText(v: unknown): string {
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
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
