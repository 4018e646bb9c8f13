import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { round, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { readColumns, writeRecords, type Cell, type Column } from '../_sdk/dataset/records.js';
import { answerContradictions, checkItem, groundTruthCalls, kindOf, languageOf, type Call, type CheckResult } from './ast-checker.js';
import { bfclFiles, loadCases, type BfclCase } from './data.js';
import { ChatEndpoint, parseResponse, requestBody, requestHash, type Generation } from './endpoint.js';
import { readOutputsJsonl } from './outputs.js';
import { accuracyChart, summaryRows, type CategoryScore } from './table.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'BFCL data', description: 'A BFCL_v*_*.json file or a folder of them, with possible_answer/ beside', widget: 'file' }),
  categories: z.array(z.string().min(1)).default([]).meta({ title: 'Categories', description: 'e.g. simple_python, multiple, irrelevance (empty: every category the AST checker scores)' }),
  maxPerCategory: z.number().int().min(0).default(0).meta({ title: 'Items per category', description: 'The first N of each category (0: all)' }),
  generations: z.enum(['endpoint', 'jsonl', 'ground-truth']).default('endpoint').meta({
    title: 'Generations from',
    description: 'endpoint: an OpenAI-compatible chat-completions server (tools API); jsonl: a file of model outputs; ground-truth: the answers themselves (checks the checker)',
  }),
  baseUrl: z.string().default('').meta({
    title: 'Endpoint base URL',
    description: 'e.g. http://localhost:8000/v1 (vLLM), http://localhost:8080/v1 (llama.cpp server), http://localhost:11434/v1 (Ollama). Empty: the node is skipped',
  }),
  model: z.string().default('').meta({ title: 'Model name', description: 'as the endpoint knows it' }),
  apiKeyEnv: z.string().default('').meta({ title: 'API key variable', description: 'Name of the environment variable holding the key (never the key itself); empty: no key' }),
  temperature: z.number().min(0).max(2).default(0).meta({ title: 'Temperature' }),
  maxTokens: z.number().int().min(1).default(512).meta({ title: 'Max tokens per reply' }),
  concurrency: z.number().int().min(1).max(256).default(4).meta({ title: 'Requests in flight' }),
  retries: z.number().int().min(0).max(20).default(3).meta({ title: 'Retries (429, 5xx, network)' }),
  requestsPerMinute: z.number().min(0).default(0).meta({ title: 'Rate limit (requests/min, 0: none)' }),
  timeoutSec: z.number().gt(0).default(120).meta({ title: 'Request timeout (s)' }),
  outputs: z.string().default('').meta({ title: 'Model outputs (JSONL)', description: 'jsonl mode: one {"id", "calls": [{"name", "arguments"}]} (or BFCL {"id", "result"}) per line', widget: 'file' }),
});

type Params = z.output<typeof params>;

const RESULT_COLUMNS: Column[] = [
  { name: 'id', type: 'VARCHAR' },
  { name: 'category', type: 'VARCHAR' },
  { name: 'valid', type: 'BOOLEAN' },
  { name: 'error', type: 'VARCHAR' },
  { name: 'message', type: 'VARCHAR' },
  { name: 'calls', type: 'VARCHAR' },
  { name: 'request_hash', type: 'VARCHAR' },
  { name: 'response', type: 'VARCHAR' },
];

const TABLE_COLUMNS: Column[] = [
  { name: 'group', type: 'VARCHAR' },
  { name: 'category', type: 'VARCHAR' },
  { name: 'items', type: 'BIGINT' },
  { name: 'correct', type: 'BIGINT' },
  { name: 'accuracy', type: 'DOUBLE' },
];

const abs = (baseDir: string, p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));

function perfectCalls(c: BfclCase): Call[] {
  const kind = kindOf(c.category);
  if (kind === 'irrelevance') return [];
  if (kind === 'relevance') return c.functions[0] ? [{ name: c.functions[0].name, args: {} }] : [];
  return groundTruthCalls(c.answer ?? [], c.functions);
}

function score(c: BfclCase, g: Generation | undefined): CheckResult {
  if (!g) return { valid: false, error: 'no_output', message: 'no model output for this id' };
  // BFCL: a reply that does not decode into calls is no call, which is right only on irrelevance.
  if (g.decodeError) return kindOf(c.category) === 'irrelevance' ? { valid: true } : { valid: false, error: 'decode_error', message: g.decodeError };
  return checkItem(c.category, c.functions, g.calls, c.answer);
}

export default defineNode({
  type: 'eval.bfcl',
  version: 1,
  category: 'Evaluation',
  title: 'BFCL function calling',
  description:
    "Function-calling accuracy per BFCL category with an AST checker that follows BFCL's rules (types and coercions, optional parameters, string normalisation, order-free parallel calls, irrelevance = no call). Generations come from an OpenAI-compatible endpoint (tools API; concurrency, retries, rate limit; replies kept in the results so a rerun with them connected as cache costs nothing) or from a JSONL of outputs. Outputs a Table-7-like accuracy table, per-item results, metrics and a chart.",
  inputs: { cache: { kind: 'dataset', title: 'earlier results (reply cache)', optional: true } },
  outputs: {
    metrics: { kind: 'metrics' },
    table: { kind: 'dataset', title: 'accuracy table' },
    results: { kind: 'dataset', title: 'per-item results and replies' },
    chart: { kind: 'chart', title: 'accuracy per category' },
  },
  params,
  // Endpoint replies may vary between calls; the results artifact is what pins them.
  deterministic: false,
  // The URL receives the data (and the key named by apiKeyEnv): imported graphs need consent first.
  codeParams: ['baseUrl', 'apiKeyEnv'],
  inputFiles: (p: Params, baseDir: string) => {
    const files: string[] = [];
    const root = abs(baseDir, p.path);
    if (existsSync(root)) for (const f of bfclFiles(root)) files.push(f);
    if (p.generations === 'jsonl' && p.outputs) files.push(abs(baseDir, p.outputs));
    return files;
  },
  async run(ctx) {
    const p = ctx.params;
    const conn = await ctx.duckdb();
    const skip = p.generations === 'endpoint' && !p.baseUrl.trim() ? 'no endpoint configured: set params.baseUrl (and model) to score a model on BFCL' : undefined;
    const { cases: all, skipped } = loadCases(bfclFiles(abs(ctx.baseDir, p.path)), p.categories);
    const perCat = new Map<string, number>();
    const cases = all.filter((c) => {
      const n = (perCat.get(c.category) ?? 0) + 1;
      perCat.set(c.category, n);
      return p.maxPerCategory === 0 || n <= p.maxPerCategory;
    });
    if (cases.length === 0 && !skip) throw new NodeError('no scoreable BFCL items (check path and categories)', { field: 'params.categories' });
    for (const [cat, n] of skipped) ctx.log(`${cat}: ${n} items not scored (multi-turn needs an execution checker; single-turn items need a possible_answer)`, 'warn');

    const generations = new Map<string, Generation>();
    const replies = new Map<string, { hash: string; response: string }>();
    let stats = { requests: 0, retries: 0, cached: 0 };
    if (skip) {
      ctx.log(skip, 'warn');
    } else if (p.generations === 'ground-truth') {
      for (const c of cases) generations.set(c.id, { calls: perfectCalls(c) });
    } else if (p.generations === 'jsonl') {
      if (!p.outputs) throw new NodeError('jsonl mode needs a model outputs file', { field: 'params.outputs' });
      for (const [id, g] of readOutputsJsonl(abs(ctx.baseDir, p.outputs))) generations.set(id, g);
    } else {
      if (!p.model) throw new NodeError('name the model the endpoint serves', { field: 'params.model' });
      const apiKey = p.apiKeyEnv ? process.env[p.apiKeyEnv] : undefined;
      if (p.apiKeyEnv && !apiKey) throw new NodeError(`environment variable ${p.apiKeyEnv} is not set`, { field: 'params.apiKeyEnv' });
      const cache = new Map<string, string>();
      const cacheRef = ctx.optionalInput('cache');
      if (cacheRef) {
        for await (const rows of readColumns(conn, cacheRef, ['request_hash', 'response'])) for (const r of rows) if (r[0] && r[1]) cache.set(String(r[0]), String(r[1]));
      }
      const endpoint = new ChatEndpoint({
        baseUrl: p.baseUrl,
        model: p.model,
        apiKey,
        temperature: p.temperature,
        maxTokens: p.maxTokens,
        concurrency: p.concurrency,
        retries: p.retries,
        requestsPerMinute: p.requestsPerMinute,
        timeoutMs: p.timeoutSec * 1000,
        signal: ctx.signal,
      });
      let cached = 0;
      await endpoint.map(
        cases,
        async (c) => {
          const body = requestBody(p.model, c.messages, c.functions, p.temperature, p.maxTokens);
          const hash = requestHash(body);
          let response = cache.get(hash);
          if (response !== undefined) cached++;
          else {
            try {
              response = JSON.stringify(await endpoint.complete(body));
            } catch (err) {
              throwIfAborted(ctx.signal);
              throw new NodeError(`${c.id}: the endpoint failed after ${p.retries} retries: ${(err as Error).message}`, { field: 'params.baseUrl' });
            }
          }
          replies.set(c.id, { hash, response });
          generations.set(c.id, parseResponse(JSON.parse(response) as unknown, c.functions));
        },
        (n) => ctx.progress(n, cases.length, 'generating'),
      );
      stats = { ...endpoint.stats, cached };
      ctx.log(`${stats.requests} requests (${stats.retries} retries), ${cached} replies from the cache`);
    }

    const byCat = new Map<string, CategoryScore>();
    const results: Cell[][] = [];
    const errorCounts = new Map<string, number>();
    let contradicted = 0;
    if (!skip) {
      for (const c of cases) {
        const g = generations.get(c.id);
        const r = score(c, g);
        const s = byCat.get(c.category) ?? { category: c.category, items: 0, correct: 0 };
        s.items++;
        if (r.valid) s.correct++;
        else errorCounts.set(r.error, (errorCounts.get(r.error) ?? 0) + 1);
        byCat.set(c.category, s);
        if (c.answer && answerContradictions(c.functions, c.answer, languageOf(c.category)).length > 0) contradicted++;
        const reply = replies.get(c.id);
        results.push([c.id, c.category, r.valid, r.valid ? null : r.error, r.valid ? null : r.message, g ? JSON.stringify(g.calls) : null, reply?.hash ?? null, reply?.response ?? null]);
      }
    }
    await writeRecords(conn, ctx.output('results'), RESULT_COLUMNS, results);
    const cats = [...byCat.values()].sort((a, b) => a.category.localeCompare(b.category));
    const rows = summaryRows(cats);
    await writeRecords(
      conn,
      ctx.output('table'),
      TABLE_COLUMNS,
      rows.map((r) => [r.group, r.category, r.items, r.correct, round(r.accuracy, 6)]),
    );
    const m: Record<string, MetricValue> = {};
    if (skip) m.skipped = skip;
    for (const r of rows) m[`${r.category}.accuracy`] = round(r.accuracy, 6);
    for (const c of cats) m[`${c.category}.items`] = c.items;
    for (const [e, n] of [...errorCounts].sort()) m[`errors.${e}`] = n;
    m.items = cases.length;
    m.answers_contradicting_docs = contradicted;
    m.generations = p.generations;
    if (p.generations === 'endpoint') {
      m.requests = stats.requests;
      m.retries = stats.retries;
      m.cached_replies = stats.cached;
      m.model = p.model;
    }
    writeMetrics(ctx.output('metrics'), m);
    await writeChart(ctx.output('chart'), accuracyChart(rows, skip ?? `${p.generations === 'endpoint' ? p.model : p.generations}, ${cases.length} items`));
    if (!skip) ctx.log(rows.map((r) => `${r.category} ${(100 * r.accuracy).toFixed(1)} %`).join(', '));
  },
  module: import.meta.url,
});
