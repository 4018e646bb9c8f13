/**
 * Where a problem is: the node, the file, and the line or field. Every user-facing error in the
 * engine carries as much of this as is known, so the CLI and the canvas can point at it.
 */
export interface ErrorLocation {
  nodeId?: string;
  edgeId?: string;
  file?: string;
  line?: number;
  field?: string;
}

export interface Diagnostic extends ErrorLocation {
  severity: 'error' | 'warning';
  code: string;
  message: string;
}

export class GraphLoadError extends Error {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[],
  ) {
    super(message);
    this.name = 'GraphLoadError';
  }
}

export function formatLocation(loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.nodeId) parts.push(`node ${loc.nodeId}`);
  if (loc.edgeId) parts.push(`edge ${loc.edgeId}`);
  if (loc.file) parts.push(loc.line !== undefined ? `${loc.file}:${loc.line}` : loc.file);
  if (loc.field) parts.push(`field "${loc.field}"`);
  return parts.join(', ');
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = formatLocation(d);
  return `${d.severity}${where ? ` [${where}]` : ''}: ${d.message}`;
}
