/**
 * A generated corpus of malformed inputs, one source node per case, all in one run (so it stays
 * fast): every case must fail on its own node with an error that names the node and the file or
 * field (never an internal error), the run must settle, and provenance must stay consistent.
 * Then property-based fuzzing (fast-check) of the parsers a stranger's files reach.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GraphDocument, GraphNode } from '../graph/document.js';
import { GraphLoadError } from '../graph/errors.js';
import { parseGraphText } from '../graph/load.js';
import { NodeError } from '../sdk/node-error.js';
import { parseJsonFile, parseYamlFile } from '../../nodes/_sdk/files.js';
import { diagnoseJsonl } from '../sdk/jsonl-diagnose.js';
import { cleanupTemp, openEngine, tempProject } from './helpers.js';

afterAll(cleanupTemp);

interface Case {
  name: string;
  file: string;
  content: string | Buffer;
  node: Omit<GraphNode, 'id'>;
}

const jsonl = (name: string, content: string | Buffer, params: Record<string, unknown> = {}): Case => ({
  name: `jsonl: ${name}`,
  file: `${slug(name)}.jsonl`,
  content,
  node: { type: 'source.jsonl', params: { path: `${slug(name)}.jsonl`, ...params } },
});
const csv = (name: string, content: string | Buffer, params: Record<string, unknown> = {}): Case => ({
  name: `csv: ${name}`,
  file: `${slug(name)}.csv`,
  content,
  node: { type: 'source.csv', params: { path: `${slug(name)}.csv`, ...params } },
});
const parquet = (name: string, content: string | Buffer): Case => ({
  name: `parquet: ${name}`,
  file: `${slug(name)}.parquet`,
  content,
  node: { type: 'source.parquet', params: { path: `${slug(name)}.parquet` } },
});
const apiDocs = (name: string, content: string): Case => ({
  name: `api-docs: ${name}`,
  file: `${slug(name)}.api.jsonl`,
  content,
  node: { type: 'source.api-docs', params: { path: `${slug(name)}.api.jsonl` } },
});
const openapi = (name: string, content: string, ext = 'json'): Case => ({
  name: `openapi: ${name}`,
  file: `${slug(name)}.${ext}`,
  content,
  node: { type: 'source.openapi', params: { path: `${slug(name)}.${ext}` } },
});
const bfcl = (name: string, content: string): Case => ({
  name: `bfcl: ${name}`,
  file: `BFCL_v4_${slug(name).replace(/-/g, '_')}.json`,
  content,
  node: { type: 'source.bfcl', params: { path: `BFCL_v4_${slug(name).replace(/-/g, '_')}.json`, requireAnswers: false } },
});

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

const GOOD = '{"text":"fine"}\n';
const BAD_UTF8 = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}\n')]);

function corpus(): Case[] {
  const cases: Case[] = [
    jsonl('empty file', ''),
    jsonl('not json', 'hello world\n'),
    jsonl('truncated object', '{"text":"abc"\n'),
    jsonl('unterminated string', '{"text":"abc}\n'),
    jsonl('single quotes', "{'text':'a'}\n"),
    jsonl('array record', '["a","b"]\n'),
    jsonl('number record', '42\n'),
    jsonl('string record', '"just text"\n'),
    jsonl('null record', 'null\n'),
    jsonl('missing text', '{"body":"a"}\n'),
    jsonl('text is number', '{"text":5}\n'),
    jsonl('text is object', '{"text":{"a":1}}\n'),
    jsonl('text is array', '{"text":["a"]}\n'),
    jsonl('text null everywhere', '{"text":null}\n{"text":null}\n'),
    jsonl('invalid utf8', BAD_UTF8),
    jsonl('binary garbage', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256))),
    jsonl('duplicate ids', '{"id":1,"text":"a"}\n{"id":1,"text":"b"}\n', { idField: 'id' }),
    jsonl('missing id field', '{"text":"a"}\n', { idField: 'uid' }),
    jsonl('null id', '{"uid":null,"text":"a"}\n', { idField: 'uid' }),
    jsonl('wrong text field', GOOD, { textField: 'content' }),
    jsonl('comment line', '// comment\n{"text":"a"}\n'),
    jsonl('only whitespace', '   \n\n  \n'),
  ];
  // A broken line after k good ones: the error must name line k + 1.
  for (const k of [1, 2, 5, 10, 50, 100, 500, 1000, 2000, 5000]) cases.push(jsonl(`bad line after ${k} good`, `${GOOD.repeat(k)}{"text": oops}\n${GOOD}`));
  for (const k of [1, 3, 30, 300]) cases.push(jsonl(`missing text after ${k} good`, `${GOOD.repeat(k)}{"body":"x"}\n`));
  const broken: Record<string, string> = { array: '[1]', number: '7', 'text number': '{"text":3}', 'cut off': '{"text":"x', garbage: '@@@' };
  for (const [kind, line] of Object.entries(broken)) for (const k of [4, 40, 400, 4000]) cases.push(jsonl(`${kind} line after ${k} good`, `${GOOD.repeat(k)}${line}\n${GOOD}`));
  cases.push(
    csv('empty file', ''),
    csv('header only', 'id,text\n'),
    csv('no text column', 'id,body\n1,a\n'),
    csv('invalid utf8', Buffer.concat([Buffer.from('id,text\n1,'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')])),
    csv('wrong text column', 'id,text\n1,a\n', { textField: 'content' }),
    csv('binary', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 91) % 256))),
    parquet('text not parquet', 'this is not parquet\n'),
    parquet('empty file', ''),
    parquet('truncated magic', 'PAR1\u0000\u0000PAR'),
    parquet('json pretending', '{"text":"a"}\n'),
    apiDocs('not json', 'nope\n'),
    apiDocs('array line', '[1,2]\n'),
    apiDocs('empty file', ''),
    apiDocs('broken after good', '{"api_name":"a","description":"b"}\n{"api_name": }\n'),
    openapi('invalid json', '{"openapi": "3.0.0", '),
    openapi('not openapi', '{"hello": "world"}'),
    openapi('paths not object', '{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":[1,2]}'),
    openapi('invalid yaml', 'openapi: 3.0.0\n  bad: [indent\n', 'yaml'),
    openapi('yaml scalar', 'just a string\n', 'yaml'),
    openapi('empty json', ''),
    bfcl('not json', 'nope'),
    bfcl('empty', ''),
    bfcl('wrong shape', '{"id":"x"}\n'),
    bfcl('question not list', '{"id":"simple_0","question":"hi","function":[]}\n'),
  );
  const bomb = ['openapi: 3.0.0', 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    bomb.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  cases.push(openapi('alias bomb', `${bomb.join('\n')}\npaths:\n  /x:\n    get:\n      summary: *a8\n`, 'yaml'));
  return cases;
}

describe('bad-input corpus', () => {
  it('every malformed input fails on its own node with an error naming the node and file or field', async () => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(80);
    const project = tempProject();
    const baseDir = join(project, 'resources/examples');
    for (const c of cases) writeFileSync(join(baseDir, c.file), c.content);
    const doc = { format: 'forge-graph', version: 2, seed: 1, nodes: cases.map((c, i) => ({ id: `c${i}`, ...c.node })), edges: [] } as GraphDocument;
    const engine = openEngine(project);
    const summary = await engine.run(doc, { baseDir, trigger: 'test', continueOnFailure: true });
    const problems: string[] = [];
    cases.forEach((c, i) => {
      const n = summary.nodes.find((o) => o.nodeId === `c${i}`);
      if (n?.state !== 'failed') problems.push(`${c.name}: ${n?.state ?? 'missing'}`);
      else if (/internal error/.test(n.error ?? '') || !n.location?.nodeId || (!n.location.file && !n.location.field))
        problems.push(`${c.name}: unclear error ${JSON.stringify(n.location)} ${n.error}`);
    });
    expect(problems).toEqual([]);
    // A broken line is named by its number.
    const after = cases.findIndex((c) => c.name === 'jsonl: bad line after 500 good');
    expect(summary.nodes.find((o) => o.nodeId === `c${after}`)?.location?.line).toBe(501);
    expect(engine.ws.db.integrityCheck()).toBe('ok');
    expect(engine.ws.db.db.prepare("SELECT count(*) AS n FROM executions WHERE status = 'running'").get()).toEqual({ n: 0 });
    engine.close();
  });

  it('graph documents that are not graphs are refused with a located message', () => {
    const bad = [
      '',
      'null',
      '[]',
      '{}',
      '{"format":"forge-graph"}',
      '{"format":"forge-graph","version":99,"nodes":[]}',
      '{"format":"forge-graph","version":2,"nodes":[{"id":1}]}',
      '{"format":"forge-graph","version":2,"nodes":"x"}',
      '{',
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
    ];
    for (const text of bad) expect(() => parseGraphText(text, 'g.forge.json'), text.slice(0, 40)).toThrow(GraphLoadError);
  });
});

describe('fuzzing the parsers a stranger reaches (fast-check)', () => {
  it('graph parsing either succeeds or throws a GraphLoadError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ format: 'forge-graph', version: 2, nodes: v })),
        ),
        (text) => {
          try {
            parseGraphText(text, 'fuzz.forge.json');
          } catch (err) {
            expect(err).toBeInstanceOf(GraphLoadError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('JSON and YAML file parsing either succeeds or throws a NodeError naming the file', async () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseJsonFile(text, 'fuzz.json');
        } catch (err) {
          expect(err).toBeInstanceOf(NodeError);
          expect((err as NodeError).location.file).toBe('fuzz.json');
        }
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), async (text) => {
        try {
          await parseYamlFile(text, 'fuzz.yaml');
        } catch (err) {
          expect(err).toBeInstanceOf(NodeError);
          expect((err as NodeError).location.file).toBe('fuzz.yaml');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('JSONL diagnosis of arbitrary bytes returns a located problem or nothing, never throws', async () => {
    const project = tempProject();
    const file = join(project, 'fuzz.jsonl');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(undefined, 'text'), async (bytes, field) => {
        writeFileSync(file, bytes);
        const p = await diagnoseJsonl(file, field);
        if (p) {
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
