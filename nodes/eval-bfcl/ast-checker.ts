/**
 * BFCL's AST checker, in TypeScript: is a model's function call (name + JSON arguments) one of the
 * calls the possible_answer allows? Follows the leaderboard's rules:
 * - the function name matches (dots may come back as underscores: tool APIs forbid dots);
 * - every required parameter is present, no parameter outside the function's schema;
 * - each value has the schema's type (an int is accepted for a float; Java/JavaScript values that
 *   arrive as source-literal strings are converted first, as BFCL's type converters do);
 * - strings match after normalisation (spaces and , . / - _ * ^ removed, case folded, ' as ");
 *   lists element-wise with the same string rule; dicts key by key against the allowed options;
 * - an optional parameter may be omitted only where its options include "";
 * - parallel calls match in any order, one model call per expected call;
 * - irrelevance items are right when there is no call, relevance items when there is one.
 * Each failure carries a named error type so results can be tallied per cause.
 */

export type Language = 'python' | 'java' | 'javascript';
export type CategoryKind = 'simple' | 'multiple' | 'parallel' | 'irrelevance' | 'relevance' | 'unsupported';

export const ERROR_TYPES = [
  'wrong_func_name',
  'missing_required',
  'unexpected_param',
  'missing_optional',
  'type_error',
  'value_error:string',
  'value_error:list',
  'value_error:dict',
  'value_error:others',
  'wrong_count',
  'cannot_find_match',
  'irrelevance:call_made',
  'relevance:no_call',
  'no_function_doc',
  'decode_error',
  'no_output',
] as const;
export type CheckErrorType = (typeof ERROR_TYPES)[number];

export interface Call {
  name: string;
  args: Record<string, unknown>;
}

export type CheckResult = { valid: true } | { valid: false; error: CheckErrorType; message: string };

type Obj = Record<string, unknown>;
export interface FunctionDoc {
  name: string;
  parameters?: { properties?: Record<string, ParamSchema>; required?: string[] };
}
interface ParamSchema {
  type?: string;
  items?: ParamSchema;
  properties?: Record<string, ParamSchema>;
}
/** possible_answer: one object per expected call, `{ fn: { param: [allowed values…] } }`. */
export type GroundTruth = Record<string, Record<string, unknown[]>>[];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ok: CheckResult = { valid: true };
const fail = (error: CheckErrorType, message: string): CheckResult => ({ valid: false, error, message });

/** `simple_python_12` → `simple_python`, `live_multiple_3-1-0` → `live_multiple`. */
export function categoryOf(id: string): string {
  return id.replace(/_\d[\d-]*$/, '');
}

export function kindOf(category: string): CategoryKind {
  if (category.includes('multi_turn')) return 'unsupported';
  if (category.endsWith('irrelevance')) return 'irrelevance';
  if (category.endsWith('relevance')) return 'relevance';
  if (category.includes('parallel')) return 'parallel';
  if (category.includes('multiple')) return 'multiple';
  if (category.startsWith('simple') || category.startsWith('live_simple')) return 'simple';
  return 'unsupported';
}

export function languageOf(category: string): Language {
  if (category.includes('javascript')) return 'javascript';
  if (category.includes('java')) return 'java';
  return 'python';
}

/** Tool APIs allow [A-Za-z0-9_-] in names; BFCL compares with dots turned into underscores. */
export const toolName = (name: string): string => name.replace(/\./g, '_');

type Expected = 'string' | 'integer' | 'float' | 'boolean' | 'array' | 'dict' | 'any';

const TYPE_NAMES: Record<string, Expected> = {
  string: 'string',
  char: 'string',
  integer: 'integer',
  int: 'integer',
  long: 'integer',
  short: 'integer',
  byte: 'integer',
  float: 'float',
  double: 'float',
  number: 'float',
  boolean: 'boolean',
  bool: 'boolean',
  array: 'array',
  tuple: 'array',
  arraylist: 'array',
  list: 'array',
  set: 'array',
  dict: 'dict',
  object: 'dict',
  hashmap: 'dict',
  map: 'dict',
  any: 'any',
};

export function expectedType(schemaType: string | undefined): Expected {
  return TYPE_NAMES[(schemaType ?? 'any').toLowerCase()] ?? 'any';
}

/** BFCL's string normalisation. */
export function standardize(s: string): string {
  return s
    .replace(/[ ,./\-_*^]/g, '')
    .toLowerCase()
    .replace(/'/g, '"');
}

function hasType(v: unknown, t: Expected): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'dict':
      return isObj(v);
    case 'any':
      return true;
  }
}

/**
 * Java and JavaScript calls are often written as source literals ("50L", "true", "[1, 2]"); BFCL
 * converts them to the declared type before comparing. Returns undefined when it does not parse.
 */
export function convertLiteral(v: string, t: Expected): unknown {
  const s = v.trim();
  if (t === 'integer') {
    const m = /^[-+]?\d+[lL]?$/.exec(s);
    return m ? Number.parseInt(s, 10) : undefined;
  }
  if (t === 'float') {
    const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[fFdD]?$/.exec(s);
    return m ? Number.parseFloat(s) : undefined;
  }
  if (t === 'boolean') return s === 'true' ? true : s === 'false' ? false : undefined;
  if (t === 'array' || t === 'dict') {
    try {
      const parsed: unknown = JSON.parse(s.replace(/'/g, '"'));
      return hasType(parsed, t) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

function typeCheck(param: string, value: unknown, schema: ParamSchema | undefined, lang: Language): { value: unknown } | CheckResult {
  const t = expectedType(schema?.type);
  let v = value;
  if (!hasType(v, t) && typeof v === 'string' && lang !== 'python') {
    const converted = convertLiteral(v, t);
    // Java/JavaScript code may pass a variable where a dict, list or number is due.
    if (converted === undefined && IDENTIFIER.test(v.trim())) return { value: v };
    v = converted ?? v;
  }
  if (!hasType(v, t)) return fail('type_error', `${param}: expected ${schema?.type ?? t}, got ${describe(value)}`);
  if (t === 'array' && schema?.items?.type && Array.isArray(v)) {
    const it = expectedType(schema.items.type);
    const bad = v.findIndex((x) => !hasType(x, it));
    if (bad >= 0) return fail('type_error', `${param}[${bad}]: expected ${schema.items.type}, got ${describe(v[bad])}`);
  }
  return { value: v };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  return typeof v === 'object' ? 'dict' : typeof v;
}

/** Two plain values equal under BFCL's rules (strings normalised, lists element-wise, dicts by key). */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return standardize(a) === standardize(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameValue(a[k], b[k]));
  }
  return a === b;
}

/** A dict value against one allowed option `{ key: [allowed…] }` (or a plain dict). */
function dictMatches(value: Obj, option: Obj): boolean {
  for (const k of Object.keys(value)) if (!(k in option)) return false;
  for (const [k, allowed] of Object.entries(option)) {
    const choices = Array.isArray(allowed) ? allowed : [allowed];
    if (!(k in value)) {
      if (!choices.includes('')) return false;
      continue;
    }
    const v = value[k];
    if (!choices.some((c) => c !== '' && (isObj(v) && isObj(c) ? dictMatches(v, c) : sameValue(v, c)))) return false;
  }
  return true;
}

function valueCheck(param: string, v: unknown, allowed: unknown[]): CheckResult {
  const options = allowed.filter((a) => a !== '');
  if (typeof v === 'string') {
    return options.some((o) => typeof o === 'string' && standardize(o) === standardize(v)) ? ok : fail('value_error:string', `${param}: ${JSON.stringify(v)} is not one of ${JSON.stringify(options)}`);
  }
  if (Array.isArray(v)) return options.some((o) => sameValue(v, o)) ? ok : fail('value_error:list', `${param}: ${JSON.stringify(v)} is not one of ${JSON.stringify(options)}`);
  if (isObj(v)) return options.some((o) => isObj(o) && dictMatches(v, o)) ? ok : fail('value_error:dict', `${param}: ${JSON.stringify(v)} matches none of the allowed dicts`);
  return options.some((o) => o === v) ? ok : fail('value_error:others', `${param}: ${JSON.stringify(v)} is not one of ${JSON.stringify(options)}`);
}

/** One model call against one function doc and one expected call. */
export function checkCall(doc: FunctionDoc, call: Call, expected: Record<string, Record<string, unknown[]>>, lang: Language): CheckResult {
  const [expName, expArgs] = Object.entries(expected)[0] ?? ['', {}];
  if (toolName(call.name) !== toolName(expName)) return fail('wrong_func_name', `called ${call.name}, expected ${expName}`);
  const props = doc.parameters?.properties ?? {};
  for (const r of doc.parameters?.required ?? []) if (!(r in call.args)) return fail('missing_required', `required parameter ${r} is missing`);
  for (const [param, raw] of Object.entries(call.args)) {
    if (!(param in props)) return fail('unexpected_param', `${param} is not a parameter of ${doc.name}`);
    const allowed = expArgs[param];
    // A null the answer allows (a parameter whose default is None) has no type to check.
    if (raw === null && allowed?.includes(null)) continue;
    const typed = typeCheck(param, raw, props[param], lang);
    if ('valid' in typed) return typed;
    if (!allowed) return fail('unexpected_param', `${param} is not among the expected parameters`);
    const vc = valueCheck(param, typed.value, allowed);
    if (!vc.valid) return vc;
  }
  for (const [param, allowed] of Object.entries(expArgs)) {
    if (!(param in call.args) && !allowed.includes('')) return fail('missing_optional', `${param} is missing and has no default in the answer`);
  }
  return ok;
}

function docFor(functions: FunctionDoc[], name: string): FunctionDoc | undefined {
  return functions.find((f) => toolName(f.name) === toolName(name));
}

/** Scores one item's calls; `answer` is its possible_answer ground truth (absent for (ir)relevance). */
export function checkItem(category: string, functions: FunctionDoc[], calls: Call[], answer: GroundTruth | undefined): CheckResult {
  const kind = kindOf(category);
  const lang = languageOf(category);
  if (kind === 'irrelevance') return calls.length === 0 ? ok : fail('irrelevance:call_made', `expected no call, got ${calls.map((c) => c.name).join(', ')}`);
  if (kind === 'relevance') return calls.length > 0 ? ok : fail('relevance:no_call', 'expected a function call, got none');
  const gt = answer ?? [];
  if (kind === 'simple' || kind === 'multiple') {
    if (calls.length !== 1 || gt.length !== 1) return fail('wrong_count', `expected 1 call, got ${calls.length}`);
    const exp = gt[0] as Record<string, Record<string, unknown[]>>;
    const name = Object.keys(exp)[0] as string;
    const doc = docFor(functions, name);
    if (!doc) return fail('no_function_doc', `the item has no doc for ${name}`);
    return checkCall(doc, calls[0] as Call, exp, lang);
  }
  if (kind === 'parallel') {
    if (calls.length !== gt.length) return fail('wrong_count', `expected ${gt.length} calls, got ${calls.length}`);
    // Compatibility matrix, then a perfect matching by backtracking (n is a handful of calls): a
    // greedy pass can consume the call a later expected call needed when options overlap.
    const fits: boolean[][] = [];
    const closest: (CheckResult | undefined)[] = [];
    for (const exp of gt) {
      const name = Object.keys(exp)[0] as string;
      const doc = docFor(functions, name);
      if (!doc) return fail('no_function_doc', `the item has no doc for ${name}`);
      const row = calls.map((c) => checkCall(doc, c, exp, lang));
      fits.push(row.map((r) => r.valid));
      closest.push(row.find((r) => !r.valid && r.error !== 'wrong_func_name') ?? row.find((r) => !r.valid));
    }
    const used = new Array<boolean>(calls.length).fill(false);
    const assign = (i: number): boolean => {
      if (i === gt.length) return true;
      for (let j = 0; j < calls.length; j++) {
        if (used[j] || !fits[i]?.[j]) continue;
        used[j] = true;
        if (assign(i + 1)) return true;
        used[j] = false;
      }
      return false;
    };
    if (assign(0)) return ok;
    const i = fits.findIndex((row) => !row.some(Boolean));
    const k = i >= 0 ? i : 0;
    const near = closest[k];
    const name = Object.keys(gt[k] ?? {})[0] ?? '?';
    return fail('cannot_find_match', `no call matches the expected ${name}${near && !near.valid ? ` (closest: ${near.error}: ${near.message})` : ''}`);
  }
  return fail('no_function_doc', `category ${category} is not scored by the AST checker`);
}

/**
 * The call the ground truth itself makes: per parameter, the first allowed value that has the
 * schema's type (a few BFCL answers also list values of another type, e.g. `false` for a string
 * enum), else nothing where "" marks the parameter optional.
 */
export function groundTruthCalls(answer: GroundTruth, functions: FunctionDoc[] = []): Call[] {
  const pick = (allowed: unknown, schema: ParamSchema | undefined): { v: unknown } | undefined => {
    const choices = Array.isArray(allowed) ? allowed : [allowed];
    const t = expectedType(schema?.type);
    const v = choices.find((c) => c !== '' && (c === null || hasType(c, t))) ?? (choices.includes('') ? undefined : choices.find((c) => c !== ''));
    if (v === undefined) return undefined;
    if (!isObj(v)) return { v };
    const out: Obj = {};
    for (const [k, a] of Object.entries(v)) {
      const sub = pick(a, schema?.properties?.[k]);
      if (sub) out[k] = sub.v;
    }
    return { v: out };
  };
  return answer.map((exp) => {
    const [name, args] = Object.entries(exp)[0] as [string, Record<string, unknown[]>];
    const props = functions.find((f) => toolName(f.name) === toolName(name))?.parameters?.properties ?? {};
    const out: Record<string, unknown> = {};
    for (const [k, allowed] of Object.entries(args)) {
      const p = pick(allowed, props[k]);
      if (p) out[k] = p.v;
    }
    return { name, args: out };
  });
}

/**
 * Where a possible_answer contradicts its own function doc (a parameter the doc does not have, a
 * required parameter the answer may omit, a parameter that cannot be omitted and has no allowed value
 * of the declared type): such items cannot
 * be answered correctly by any call. A handful exist in BFCL's live data; reports count them.
 */
export function answerContradictions(functions: FunctionDoc[], answer: GroundTruth, lang: Language): string[] {
  const out: string[] = [];
  for (const exp of answer) {
    const [name, args] = Object.entries(exp)[0] as [string, Record<string, unknown[]>];
    const doc = docFor(functions, name);
    if (!doc) {
      out.push(`${name}: no function doc`);
      continue;
    }
    const props = doc.parameters?.properties ?? {};
    for (const r of doc.parameters?.required ?? []) if (!args[r] || args[r].every((v) => v === '')) out.push(`${name}.${r}: required by the doc, optional in the answer`);
    for (const [k, allowed] of Object.entries(args)) {
      if (!(k in props)) {
        out.push(`${name}.${k}: not in the doc`);
        continue;
      }
      const options = allowed.filter((v) => v !== '' && v !== null);
      if (options.length > 0 && !allowed.includes('') && !options.some((v) => !('valid' in typeCheck(k, v, props[k], lang))))
        out.push(`${name}.${k}: no allowed value has type ${String(props[k]?.type)}`);
    }
  }
  return out;
}
