import { createHash } from 'node:crypto';
import { CancelledError } from '../../engine/sdk/node-error.js';
import { toolName, type Call, type FunctionDoc } from './ast-checker.js';
import type { Message } from '../source-bfcl/bfcl.js';

/**
 * Generations from an OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp server, Ollama,
 * hosted APIs) through the tools API: BFCL function docs become JSON-schema tools, the reply's
 * tool_calls become calls. Concurrency, retries with backoff (429 / 5xx / network) and a
 * requests-per-minute limit are handled here; responses are keyed by a hash of the request body.
 */
export interface EndpointOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  temperature: number;
  maxTokens: number;
  concurrency: number;
  retries: number;
  requestsPerMinute: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Generation {
  calls: Call[];
  /** The reply could not be read as calls (bad JSON arguments, no choices). */
  decodeError?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const JSON_TYPES: Record<string, string> = {
  dict: 'object',
  hashmap: 'object',
  map: 'object',
  object: 'object',
  float: 'number',
  double: 'number',
  number: 'number',
  integer: 'integer',
  int: 'integer',
  long: 'integer',
  short: 'integer',
  byte: 'integer',
  tuple: 'array',
  array: 'array',
  arraylist: 'array',
  list: 'array',
  set: 'array',
  string: 'string',
  char: 'string',
  boolean: 'boolean',
  bool: 'boolean',
};

/** BFCL's parameter schemas use Python/Java type names; tools APIs want JSON Schema. */
export function toJsonSchema(schema: unknown): Obj {
  if (!isObj(schema)) return {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'type') {
      const t = JSON_TYPES[String(v).toLowerCase()];
      if (t) out.type = t; // "any": no type constraint
    } else if (k === 'properties' && isObj(v)) out.properties = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, toJsonSchema(s)]));
    else if (k === 'items') out.items = toJsonSchema(v);
    else if (k !== 'optional') out[k] = v;
  }
  return out;
}

export function requestBody(model: string, messages: Message[], functions: FunctionDoc[], temperature: number, maxTokens: number): Obj {
  return {
    model,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    tools: functions.map((f) => ({
      type: 'function',
      function: { name: toolName(f.name), description: (f as unknown as Obj).description ?? '', parameters: toJsonSchema(f.parameters ?? { type: 'dict', properties: {} }) },
    })),
    tool_choice: 'auto',
    temperature,
    max_tokens: maxTokens,
  };
}

export function requestHash(body: Obj): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** Reads calls from a chat-completions response (tool_calls, with names mapped back to BFCL's). */
export function parseResponse(response: unknown, functions: FunctionDoc[]): Generation {
  const byTool = new Map(functions.map((f) => [toolName(f.name), f.name]));
  const choice = isObj(response) && Array.isArray(response.choices) ? (response.choices[0] as unknown) : undefined;
  const message = isObj(choice) ? choice.message : undefined;
  if (!isObj(message)) return { calls: [], decodeError: 'the response has no choices[0].message' };
  const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const calls: Call[] = [];
  for (const tc of toolCalls) {
    const fn = isObj(tc) ? tc.function : undefined;
    if (!isObj(fn) || typeof fn.name !== 'string') return { calls, decodeError: 'a tool call without function.name' };
    let args: unknown = fn.arguments ?? {};
    if (typeof args === 'string') {
      try {
        args = args.trim() ? JSON.parse(args) : {};
      } catch {
        return { calls, decodeError: `arguments of ${fn.name} are not JSON` };
      }
    }
    if (!isObj(args)) return { calls, decodeError: `arguments of ${fn.name} are not an object` };
    calls.push({ name: byTool.get(fn.name) ?? fn.name, args });
  }
  return { calls };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new CancelledError());
      },
      { once: true },
    );
  });

/** Spaces request starts so no more than `perMinute` begin in any minute (0: no limit). */
class RateLimiter {
  private next = 0;
  constructor(private readonly perMinute: number) {}
  async wait(signal?: AbortSignal): Promise<void> {
    if (this.perMinute <= 0) return;
    const gap = 60_000 / this.perMinute;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + gap;
    if (at > now) await sleep(at - now, signal);
  }
}

export interface EndpointStats {
  requests: number;
  retries: number;
}

export class ChatEndpoint {
  readonly stats: EndpointStats = { requests: 0, retries: 0 };
  private readonly limiter: RateLimiter;
  constructor(private readonly opts: EndpointOptions) {
    this.limiter = new RateLimiter(opts.requestsPerMinute);
  }

  private async once(body: Obj): Promise<unknown> {
    await this.limiter.wait(this.opts.signal);
    this.stats.requests++;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    const res = await fetch(`${this.opts.baseUrl.replace(/\/+$/, '')}/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body), signal });
    const text = await res.text();
    if (!res.ok) {
      const ra = Number(res.headers.get('retry-after'));
      throw new HttpError(res.status, `HTTP ${res.status}: ${text.slice(0, 200)}`, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HttpError(res.status, `the endpoint answered non-JSON: ${text.slice(0, 200)}`);
    }
  }

  /** One request with retries on 429, 5xx and network errors (exponential backoff from 0.5 s). */
  async complete(body: Obj): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(body);
      } catch (err) {
        if (this.opts.signal?.aborted) throw new CancelledError();
        const retryable = err instanceof HttpError ? err.status === 429 || err.status >= 500 : true;
        if (!retryable || attempt >= this.opts.retries) throw err;
        this.stats.retries++;
        const wait = err instanceof HttpError && err.retryAfterMs ? err.retryAfterMs : 500 * 2 ** attempt;
        await sleep(Math.min(wait, 30_000), this.opts.signal);
      }
    }
  }

  /** Runs `jobs` with at most `concurrency` in flight; results in job order. */
  async map<T, R>(jobs: readonly T[], fn: (job: T) => Promise<R>, onDone?: (n: number) => void): Promise<R[]> {
    const out = new Array<R>(jobs.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await fn(jobs[i] as T);
        onDone?.(++done);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.opts.concurrency, jobs.length)) }, worker));
    return out;
  }
}
