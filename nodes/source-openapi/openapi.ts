/**
 * OpenAPI 3.x / Swagger 2.0 → one plain-text document per operation (method, path, summary,
 * parameters, request body and response schemas), the way API documentation reads to a model.
 * Local `$ref`s (`#/components/...`, `#/definitions/...`) are inlined to a bounded depth.
 */

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface Operation {
  method: string;
  path: string;
  operationId: string | null;
  summary: string;
  tags: string[];
  text: string;
}

export interface ApiDoc {
  flavor: 'openapi-3' | 'swagger-2';
  version: string;
  title: string;
  apiVersion: string;
  operations: Operation[];
}

export class SpecError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

export interface RenderOptions {
  /** How deep nested schemas are expanded before a type name stands in. */
  schemaDepth: number;
  /** Longest rendered schema, in characters, before it is cut with "…". */
  maxSchemaChars: number;
}

export function parseSpec(doc: unknown, opts: RenderOptions): ApiDoc {
  if (!isObj(doc)) throw new SpecError('not an OpenAPI document: the top level is not an object', 'openapi');
  let flavor: ApiDoc['flavor'];
  let version: string;
  if (typeof doc.openapi === 'string' && /^3\./.test(doc.openapi)) {
    flavor = 'openapi-3';
    version = doc.openapi;
  } else if (str(doc.swagger) === '2.0') {
    flavor = 'swagger-2';
    version = '2.0';
  } else if (doc.openapi !== undefined || doc.swagger !== undefined) {
    throw new SpecError(`unsupported OpenAPI version ${JSON.stringify(doc.openapi ?? doc.swagger)} (3.x and Swagger 2.0 are supported)`, doc.openapi !== undefined ? 'openapi' : 'swagger');
  } else {
    throw new SpecError('not an OpenAPI/Swagger document: no "openapi" or "swagger" field at the top level', 'openapi');
  }
  if (!isObj(doc.paths)) throw new SpecError('no "paths" object', 'paths');
  const info = isObj(doc.info) ? doc.info : {};
  const title = oneLine(str(info.title)) || 'API';
  const apiVersion = str(info.version);
  const servers =
    flavor === 'openapi-3'
      ? (Array.isArray(doc.servers) ? doc.servers : []).filter(isObj).map((s) => str(s.url))
      : doc.host
        ? [`${(Array.isArray(doc.schemes) ? str(doc.schemes[0]) : 'https') || 'https'}://${str(doc.host)}${str(doc.basePath)}`]
        : [];
  const r = new Renderer(doc, opts);
  const operations: Operation[] = [];
  for (const [path, item0] of Object.entries(doc.paths)) {
    const item = r.deref(item0);
    if (!isObj(item)) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      const params = mergeParams(
        shared.map((p) => r.deref(p)),
        (Array.isArray(op.parameters) ? op.parameters : []).map((p) => r.deref(p)),
      );
      const tags = (Array.isArray(op.tags) ? op.tags : []).map(str).filter(Boolean);
      const summary = oneLine(str(op.summary));
      const lines: string[] = [];
      lines.push(`API: ${title}${apiVersion ? ` ${apiVersion}` : ''}`);
      if (servers.length > 0) lines.push(`Server: ${servers.join(', ')}`);
      lines.push(`Operation: ${method.toUpperCase()} ${path}${op.operationId ? ` (operationId: ${str(op.operationId)})` : ''}`);
      if (op.deprecated === true) lines.push('Deprecated: yes');
      if (tags.length > 0) lines.push(`Tags: ${tags.join(', ')}`);
      if (summary) lines.push(`Summary: ${summary}`);
      const description = str(op.description).trim();
      if (description && oneLine(description) !== summary) lines.push(`Description: ${description}`);
      const bodyParams = params.filter((p) => p.in === 'body' || p.in === 'formData');
      const plain = params.filter((p) => p.in !== 'body' && p.in !== 'formData');
      if (plain.length > 0) {
        lines.push('Parameters:');
        for (const p of plain) {
          const schema = isObj(p.schema) ? r.schema(p.schema) : r.schema(p);
          const desc = oneLine(str(p.description));
          lines.push(`- ${str(p.name)} (${str(p.in)}, ${schema}${p.required === true ? ', required' : ''})${desc ? `: ${desc}` : ''}`);
        }
      }
      if (flavor === 'openapi-3' && op.requestBody !== undefined) {
        const body = r.deref(op.requestBody);
        if (isObj(body)) {
          const content = isObj(body.content) ? body.content : {};
          const desc = oneLine(str(body.description));
          lines.push(`Request body${body.required === true ? ' (required)' : ''}${desc ? `: ${desc}` : ''}`);
          for (const [mime, media] of Object.entries(content)) {
            const m = r.deref(media);
            lines.push(`- ${mime}: ${isObj(m) && m.schema !== undefined ? r.schema(m.schema) : 'any'}`);
          }
        }
      }
      if (bodyParams.length > 0) {
        lines.push('Request body:');
        for (const p of bodyParams) {
          const desc = oneLine(str(p.description));
          const schema = isObj(p.schema) ? r.schema(p.schema) : r.schema(p);
          lines.push(`- ${str(p.name)}${p.in === 'formData' ? ' (form)' : ''}${p.required === true ? ' (required)' : ''}: ${schema}${desc ? ` — ${desc}` : ''}`);
        }
      }
      const responses = isObj(op.responses) ? op.responses : {};
      if (Object.keys(responses).length > 0) {
        lines.push('Responses:');
        for (const [code, resp0] of Object.entries(responses)) {
          const resp = r.deref(resp0);
          if (!isObj(resp)) continue;
          const desc = oneLine(str(resp.description));
          const parts: string[] = [];
          if (flavor === 'openapi-3' && isObj(resp.content)) {
            for (const [mime, media] of Object.entries(resp.content)) {
              const m = r.deref(media);
              if (isObj(m) && m.schema !== undefined) parts.push(`${mime}: ${r.schema(m.schema)}`);
            }
          } else if (resp.schema !== undefined) {
            parts.push(r.schema(resp.schema));
          }
          lines.push(`- ${code}${desc ? `: ${desc}` : ''}${parts.length > 0 ? ` → ${parts.join('; ')}` : ''}`);
        }
      }
      operations.push({ method: method.toUpperCase(), path, operationId: op.operationId ? str(op.operationId) : null, summary, tags, text: lines.join('\n') });
    }
  }
  return { flavor, version, title, apiVersion, operations };
}

interface Param extends Obj {
  name?: unknown;
  in?: unknown;
}

function mergeParams(shared: unknown[], own: unknown[]): Param[] {
  const byKey = new Map<string, Param>();
  for (const p of [...shared, ...own]) {
    if (!isObj(p)) continue;
    byKey.set(`${str(p.in)}:${str(p.name)}`, p);
  }
  return [...byKey.values()];
}

class Renderer {
  constructor(
    private readonly root: Obj,
    private readonly opts: RenderOptions,
  ) {}

  /** Follows local `$ref`s (a chain of them), leaving external ones as they are. */
  deref(v: unknown, seen = new Set<string>()): unknown {
    let cur = v;
    while (isObj(cur) && typeof cur.$ref === 'string' && cur.$ref.startsWith('#/')) {
      if (seen.has(cur.$ref)) return cur;
      seen.add(cur.$ref);
      cur = this.lookup(cur.$ref);
    }
    return cur;
  }

  private lookup(ref: string): unknown {
    let cur: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      if (!isObj(cur) && !Array.isArray(cur)) return undefined;
      cur = (cur as Obj)[key];
    }
    return cur;
  }

  schema(s: unknown): string {
    const out = this.render(s, 0, new Set());
    return out.length > this.opts.maxSchemaChars ? `${out.slice(0, this.opts.maxSchemaChars - 1)}…` : out;
  }

  private render(s: unknown, depth: number, stack: Set<string>): string {
    if (!isObj(s)) return 'any';
    if (typeof s.$ref === 'string') {
      const ref = s.$ref;
      const name = ref.split('/').pop() ?? ref;
      if (!ref.startsWith('#/')) return `${name} (external)`;
      if (stack.has(ref) || depth >= this.opts.schemaDepth) return name;
      const target = this.lookup(ref);
      if (target === undefined) return `${name} (unresolved)`;
      const inner = this.render(target, depth, new Set([...stack, ref]));
      return inner.startsWith('{') ? `${name} ${inner}` : inner;
    }
    for (const key of ['oneOf', 'anyOf'] as const) {
      if (Array.isArray(s[key])) return (s[key] as unknown[]).map((x) => this.render(x, depth + 1, stack)).join(' | ');
    }
    if (Array.isArray(s.allOf)) return (s.allOf as unknown[]).map((x) => this.render(x, depth + 1, stack)).join(' & ');
    if (Array.isArray(s.enum)) return s.enum.map((x) => JSON.stringify(x)).join('|');
    const type = Array.isArray(s.type) ? s.type.map(str).join('|') : str(s.type);
    if (type === 'array' || s.items !== undefined) return `${this.render(s.items, depth + 1, stack)}[]`;
    if (type === 'object' || isObj(s.properties)) {
      const props = isObj(s.properties) ? s.properties : {};
      const required = new Set(Array.isArray(s.required) ? s.required.map(str) : []);
      const names = Object.keys(props);
      if (names.length === 0) {
        if (isObj(s.additionalProperties)) return `{[key]: ${this.render(s.additionalProperties, depth + 1, stack)}}`;
        return 'object';
      }
      if (depth >= this.opts.schemaDepth) return 'object';
      const fields = names.map((n) => {
        const p = props[n];
        const desc = isObj(p) ? oneLine(str(p.description)) : '';
        return `${n}${required.has(n) ? '' : '?'}: ${this.render(p, depth + 1, stack)}${desc ? ` (${desc})` : ''}`;
      });
      return `{${fields.join(', ')}}`;
    }
    const fmt = str(s.format);
    return `${type || 'any'}${fmt ? ` (${fmt})` : ''}`;
  }
}
