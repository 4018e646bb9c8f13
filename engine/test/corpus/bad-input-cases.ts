import type { GraphNode } from '../../graph/document.js';

/**
 * The bad-input corpus of issue 9: one malformed file and one source node per case. Shared by the
 * corpus test and the bounded child process that runs it (run-corpus.ts).
 */
export interface Case {
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

export function corpus(): Case[] {
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
