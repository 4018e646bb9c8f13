import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { graphDocumentSchema, type GraphDocument } from './document.js';
import { GraphLoadError, type Diagnostic } from './errors.js';
import { migrateDocument } from './migrate.js';

/** 1-based line of a character offset, for pointing at JSON syntax errors. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export function parseGraphText(text: string, file?: string): GraphDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const pos = /position (\d+)/.exec(message);
    const line = pos ? lineOfOffset(text, Number(pos[1])) : undefined;
    throw new GraphLoadError(`graph document is not valid JSON: ${message}`, [{ severity: 'error', code: 'invalid-json', file, line, message: `not valid JSON: ${message}` }]);
  }
  return parseGraphValue(raw, file);
}

export function parseGraphValue(raw: unknown, file?: string): GraphDocument {
  const migrated = migrateDocument(raw, file);
  const parsed = graphDocumentSchema.safeParse(migrated);
  if (!parsed.success) {
    const diagnostics = zodDiagnostics(parsed.error, { file, code: 'invalid-document' }, raw);
    throw new GraphLoadError(`graph document does not match the format: ${diagnostics.map((d) => `${d.field}: ${d.message}`).join('; ')}`, diagnostics);
  }
  return parsed.data;
}

export function loadGraphFile(path: string): GraphDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new GraphLoadError(`cannot read graph ${path}: ${message}`, [{ severity: 'error', code: 'unreadable', file: path, message }]);
  }
  return parseGraphText(text, path);
}

/** Turns zod issues into diagnostics; paths like `nodes.3.params` name the node by id where possible. */
export function zodDiagnostics(error: z.ZodError, base: Partial<Diagnostic> & { code: string }, raw?: unknown): Diagnostic[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    let nodeId = base.nodeId;
    if (!nodeId && path[0] === 'nodes' && raw && typeof raw === 'object') {
      const nodes = (raw as { nodes?: unknown }).nodes;
      const n = Array.isArray(nodes) ? (nodes[Number(path[1])] as { id?: unknown } | undefined) : undefined;
      if (n && typeof n.id === 'string') nodeId = n.id;
    }
    return {
      severity: 'error' as const,
      ...base,
      nodeId,
      field: path.join('.') || base.field,
      message: issue.message,
    };
  });
}
