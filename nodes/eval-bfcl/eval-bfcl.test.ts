import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const BFCL = join(DATASETS, 'agent/bfcl');

/**
 * Replies in the chat-completions wire format, keyed by the user's question, as a server would
 * have sent them: right calls, a wrong value, a text answer, and a call on an irrelevance item.
 */
const RECORDED: Record<string, unknown> = {
  'Find the area of a triangle with a base of 10 units and height of 5 units.': toolReply([['calculate_triangle_area', '{"base": 10, "height": 5, "unit": "units"}']]),
  'Calculate the factorial of 5 using math functions.': toolReply([['math_factorial', '{"number": 5}']]),
  'Calculate the hypotenuse of a right triangle given the lengths of the other two sides as 4 and 5.': toolReply([['math_hypot', '{"x": 4, "y": 6}']]),
  'Calculate the area of a triangle given the base is 10 meters and height is 5 meters.': textReply('I cannot compute that with the available functions.'),
  'Solve the quadratic equation with coefficients a = 1, b = 2, and c = 3.': toolReply([['math_sum', '{"numbers": [1, 2, 3]}']]),
};

function toolReply(calls: [string, string][]): unknown {
  return {
    id: 'chatcmpl-rec',
    object: 'chat.completion',
    model: 'recorded',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        message: { role: 'assistant', content: null, tool_calls: calls.map(([name, args], i) => ({ id: `call_${i}`, type: 'function', function: { name, arguments: args } })) },
      },
    ],
  };
}

function textReply(content: string): unknown {
  return { id: 'chatcmpl-rec', object: 'chat.completion', model: 'recorded', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }] };
}

let server: Server;
let baseUrl = '';
const seen = { requests: 0, throttled: 0, bodies: [] as Record<string, unknown>[], auth: [] as (string | undefined)[] };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.requests++;
      // The first request of all is throttled once: the client must retry it.
      if (seen.throttled === 0) {
        seen.throttled++;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"error":"slow down"}');
        return;
      }
      const parsed = JSON.parse(body) as { messages: { role: string; content: string }[] };
      seen.bodies.push(parsed as unknown as Record<string, unknown>);
      seen.auth.push(req.headers.authorization);
      const q = parsed.messages.filter((m) => m.role === 'user').pop()?.content ?? '';
      if (!req.url?.endsWith('/chat/completions')) {
        res.writeHead(404).end('{"error":"no such route"}');
        return;
      }
      const reply = RECORDED[q] ?? textReply('No function fits this request.');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('eval.bfcl node', () => {
  it('ground-truth generations score 100 % in every bundled category; the table has Table-7 groups', async () => {
    const run = await runGraph(graph([{ id: 'bfcl', type: 'eval.bfcl', params: { path: BFCL, generations: 'ground-truth' } }]));
    try {
      expect(run.outcome('bfcl').error).toBeUndefined();
      const m = run.metrics('bfcl');
      for (const cat of ['simple_python', 'simple_javascript', 'multiple', 'irrelevance']) {
        expect(m[`${cat}.accuracy`], cat).toBe(1);
        expect(Number(m[`${cat}.items`])).toBeGreaterThan(10);
      }
      expect(m['Overall (mean).accuracy']).toBe(1);
      const table = await run.rows('bfcl', 'table');
      expect(table.map((r) => r.group)).toEqual(expect.arrayContaining(['Non-live AST', 'Hallucination', 'Overall']));
    } finally {
      run.close();
    }
  });

  it('scores replies from an OpenAI-compatible endpoint (tools API, retry on 429, key from env); a cached rerun makes no requests', async () => {
    process.env.FORGE_TEST_BFCL_KEY = 'sk-test';
    const params = { path: BFCL, categories: ['simple_python', 'irrelevance'], maxPerCategory: 3, baseUrl, model: 'recorded', apiKeyEnv: 'FORGE_TEST_BFCL_KEY', concurrency: 2, retries: 2 };
    const doc = graph(
      [
        { id: 'live', type: 'eval.bfcl', params },
        { id: 'again', type: 'eval.bfcl', params },
      ],
      [['live.results', 'again.cache']],
    );
    // The endpoint URL and key variable are trust-gated params: this test's graph is the user's own.
    const run = await runGraph(doc, { trust: true });
    try {
      expect(run.outcome('live').error).toBeUndefined();
      const m = run.metrics('live');
      // simple_python: 0 and 1 right, 2 has a wrong value; irrelevance: 0 and 2 decline (right), 1 calls (wrong).
      expect(m['simple_python.accuracy']).toBeCloseTo(2 / 3, 6);
      expect(m['errors.value_error:others']).toBe(1);
      expect(m['irrelevance.accuracy']).toBeCloseTo(2 / 3, 6);
      expect(m['errors.irrelevance:call_made']).toBe(1);
      expect(m.requests).toBe(7); // six items, one of them retried after a 429
      expect(m.retries).toBe(1);
      expect(seen.auth.every((a) => a === 'Bearer sk-test')).toBe(true);
      const body = seen.bodies[0] as { tools: { function: { name: string; parameters: { type: string } } }[]; tool_choice: string };
      expect(body.tool_choice).toBe('auto');
      expect(body.tools[0]?.function.parameters.type).toBe('object'); // BFCL's "dict" → JSON Schema
      expect(body.tools.every((t) => /^[A-Za-z0-9_-]+$/.test(t.function.name))).toBe(true);
      const results = await run.rows('live', 'results');
      expect(results.find((r) => r.id === 'simple_python_2')).toMatchObject({ valid: false, error: 'value_error:others' });
      // Served from the cache input: identical scores, zero requests.
      const again = run.metrics('again');
      expect(again.requests).toBe(0);
      expect(again.cached_replies).toBe(6);
      expect(again['simple_python.accuracy']).toBe(m['simple_python.accuracy']);
    } finally {
      run.close();
      delete process.env.FORGE_TEST_BFCL_KEY;
    }
  });

  it('without an endpoint the node is skipped with a clear message; JSONL outputs are scored; bad lines name file and line', async () => {
    const jsonl = [
      JSON.stringify({ id: 'simple_python_0', calls: [{ name: 'calculate_triangle_area', arguments: '{"base": 10, "height": 5}' }] }),
      JSON.stringify({ id: 'simple_python_1', result: [{ 'math.factorial': { number: '5' } }] }),
    ].join('\n');
    const run = await runGraph(
      graph([
        { id: 'none', type: 'eval.bfcl', params: { path: BFCL } },
        { id: 'file', type: 'eval.bfcl', params: { path: BFCL, generations: 'jsonl', outputs: 'out.jsonl', categories: ['simple_python'], maxPerCategory: 3 } },
        { id: 'bad', type: 'eval.bfcl', params: { path: BFCL, generations: 'jsonl', outputs: 'bad.jsonl', categories: ['simple_python'] } },
      ]),
      { files: { 'out.jsonl': jsonl, 'bad.jsonl': `${jsonl}\n{oops\n` }, trust: true },
    );
    try {
      expect(run.outcome('none').error).toBeUndefined();
      expect(String(run.metrics('none').skipped)).toContain('no endpoint configured');
      const m = run.metrics('file');
      expect(m['simple_python.accuracy']).toBeCloseTo(1 / 3, 6); // 0 right, 1 wrong type ("5"), 2 missing
      expect(m['errors.type_error']).toBe(1);
      expect(m['errors.no_output']).toBe(1);
      expect(run.outcome('bad')).toMatchObject({ state: 'failed', location: { nodeId: 'bad', file: expect.stringContaining('bad.jsonl'), line: 3 } });
    } finally {
      run.close();
    }
  });
});
