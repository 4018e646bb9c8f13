/** Renders one API documentation record (any JSON object) as a readable text document. */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export type DocFormat = 'keyvalue' | 'markdown' | 'json';

export interface RenderOptions {
  format: DocFormat;
  /** Field names in the order to render; empty = every field in record order. */
  fields: string[];
  exclude: string[];
  /** Rendered first, as the heading. */
  titleField?: string;
  /** Leave out null, "", [], {}, "N/A" values. */
  skipEmpty: boolean;
}

const EMPTY_STRINGS = new Set(['', 'n/a', 'na', 'none', 'null']);

export function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return EMPTY_STRINGS.has(v.trim().toLowerCase());
  if (Array.isArray(v)) return v.every(isEmpty);
  if (isObj(v)) return Object.values(v).every(isEmpty);
  return false;
}

function inline(v: unknown, skipEmpty: boolean): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  if (Array.isArray(v))
    return v
      .filter((x) => !skipEmpty || !isEmpty(x))
      .map((x) => inline(x, skipEmpty))
      .join(', ');
  return Object.entries(v as Obj)
    .filter(([, x]) => !skipEmpty || !isEmpty(x))
    .map(([k, x]) => `${k}: ${isObj(x) || Array.isArray(x) ? JSON.stringify(x) : inline(x, skipEmpty)}`)
    .join('; ');
}

/** Code-like values (multi-line strings, lists of lines) are kept as blocks. */
function block(v: unknown): string | null {
  return typeof v === 'string' && v.includes('\n') ? v : null;
}

export function renderRecord(rec: Obj, opts: RenderOptions): string {
  const exclude = new Set(opts.exclude);
  const keys = (opts.fields.length > 0 ? opts.fields : Object.keys(rec)).filter((k) => !exclude.has(k) && k in rec);
  const kept = keys.filter((k) => !opts.skipEmpty || !isEmpty(rec[k]));
  if (opts.format === 'json') return JSON.stringify(Object.fromEntries(kept.map((k) => [k, rec[k]])));
  const title = opts.titleField && !isEmpty(rec[opts.titleField]) ? inline(rec[opts.titleField], opts.skipEmpty) : null;
  const body = kept.filter((k) => !(title !== null && k === opts.titleField));
  const lines: string[] = [];
  if (opts.format === 'markdown') {
    if (title) lines.push(`# ${title}`, '');
    for (const k of body) {
      const v = rec[k];
      const isCodeKey = /code|example|usage/i.test(k);
      const b = block(v) ?? (isCodeKey && Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join('\n') : null);
      if (b !== null || (isCodeKey && typeof v === 'string')) lines.push(`**${k}**:`, '```', b ?? String(v), '```');
      else lines.push(`**${k}**: ${inline(v, opts.skipEmpty)}`);
    }
  } else {
    if (title && opts.titleField) lines.push(`${opts.titleField}: ${title}`);
    for (const k of body) {
      const v = rec[k];
      const isCodeKey = /code|example|usage/i.test(k);
      const b = block(v) ?? (isCodeKey && Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join('\n') : null);
      if (b !== null) lines.push(`${k}:`, ...b.split('\n').map((l) => `  ${l}`));
      else lines.push(`${k}: ${inline(v, opts.skipEmpty)}`);
    }
  }
  return lines.join('\n');
}
