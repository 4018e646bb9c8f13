import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry.js';
import { NODE_TYPES } from '../index.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph, tempDir } from '../_sdk/testing/graph.js';
import warc from './index.js';

const registry = new NodeRegistry(NODE_TYPES.some((t) => t.type === warc.type) ? NODE_TYPES : [...NODE_TYPES, warc]);
afterEach(cleanupTempDirs);
afterAll(closeExecutor);

/** One WARC record, serialised as the spec (and Common Crawl) writes it. */
function record(headers: Record<string, string>, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  const head = Object.entries({ ...headers, 'Content-Length': String(b.length) })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.concat([Buffer.from(`WARC/1.0\r\n${head}\r\n`), b, Buffer.from('\r\n\r\n')]);
}

/** A WET conversion record, one gzip member. */
function wet(n: number, text: string, lang = 'eng'): Buffer {
  return gzipSync(
    record(
      {
        'WARC-Type': 'conversion',
        'WARC-Target-URI': `https://site${n}.example/page`,
        'WARC-Date': `2024-02-2${n % 10}T10:00:00Z`,
        'WARC-Record-ID': `<urn:uuid:00000000-0000-0000-0000-${String(n).padStart(12, '0')}>`,
        'WARC-Identified-Content-Language': lang,
        'Content-Type': 'text/plain',
      },
      text,
    ),
  );
}

const warcinfo = gzipSync(record({ 'WARC-Type': 'warcinfo', 'WARC-Record-ID': '<urn:uuid:info>', 'Content-Type': 'application/warc-fields' }, 'software: test\r\n'));
const html = '<html><body><p>Agents call tools.</p></body></html>';
const response = gzipSync(
  record(
    {
      'WARC-Type': 'response',
      'WARC-Target-URI': 'https://html.example/',
      'WARC-Date': '2024-03-01T00:00:00Z',
      'WARC-Record-ID': '<urn:uuid:resp-1>',
      'Content-Type': 'application/http; msgtype=response',
    },
    `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(html)}\r\n\r\n${html}`,
  ),
);
const request = gzipSync(
  record(
    { 'WARC-Type': 'request', 'WARC-Target-URI': 'https://html.example/', 'WARC-Record-ID': '<urn:uuid:req-1>', 'Content-Type': 'application/http; msgtype=request' },
    'GET / HTTP/1.1\r\nHost: html.example\r\n\r\n',
  ),
);

/** A crawl folder with two WET files and one WARC file, as Common Crawl ships them. */
function crawl(): { dir: string; wetA: Buffer[] } {
  const dir = tempDir();
  mkdirSync(join(dir, 'crawl'));
  const wetA = [warcinfo, wet(1, 'Tool use: the agent calls search(query).'), wet(2, 'Ünïcode survives: naïve café ✓', 'fra')];
  writeFileSync(join(dir, 'crawl/a.warc.wet.gz'), Buffer.concat(wetA));
  writeFileSync(join(dir, 'crawl/b.warc.wet.gz'), Buffer.concat([warcinfo, wet(3, 'Third document.')]));
  writeFileSync(join(dir, 'crawl/c.warc.gz'), Buffer.concat([warcinfo, request, response]));
  return { dir, wetA };
}

describe('source.warc node', () => {
  it('streams WET conversion records from a glob, one shard per file, with record ids, urls, dates and byte offsets', async () => {
    const { dir, wetA } = crawl();
    const run = await runGraph(graph([{ id: 'cc', type: 'source.warc', params: { path: 'crawl/*.gz' } }]), { dir, registry });
    try {
      expect(run.outcome('cc').error).toBeUndefined();
      const rows = await run.rows('cc');
      expect(rows.map((r) => [r.id, r.url, r.date, r.content_type, r.language, r.warc_file, r.warc_offset, r.source])).toEqual([
        ['urn:uuid:00000000-0000-0000-0000-000000000001', 'https://site1.example/page', '2024-02-21T10:00:00Z', 'text/plain', 'eng', 'crawl/a.warc.wet.gz', String(wetA[0]?.length), 'commoncrawl'],
        [
          'urn:uuid:00000000-0000-0000-0000-000000000002',
          'https://site2.example/page',
          '2024-02-22T10:00:00Z',
          'text/plain',
          'fra',
          'crawl/a.warc.wet.gz',
          String((wetA[0]?.length ?? 0) + (wetA[1]?.length ?? 0)),
          'commoncrawl',
        ],
        ['urn:uuid:00000000-0000-0000-0000-000000000003', 'https://site3.example/page', '2024-02-23T10:00:00Z', 'text/plain', 'eng', 'crawl/b.warc.wet.gz', String(warcinfo.length), 'commoncrawl'],
      ]);
      expect(rows.map((r) => r.text)).toEqual(['Tool use: the agent calls search(query).', 'Ünïcode survives: naïve café ✓', 'Third document.']);
      const artifact = run.artifact('cc', 'out');
      // One shard per input file, the WARC file's empty one included, in file order.
      expect(artifact.manifest.files.filter((f) => f.path.startsWith('shards/')).map((f) => f.path)).toEqual([
        'shards/part-000000.parquet',
        'shards/part-000001.parquet',
        'shards/part-000002.parquet',
      ]);
      expect(artifact.manifest.meta).toMatchObject({ files: 3, documents: 3, skipped_responses: 1, skipped_other_records: 4 });
    } finally {
      run.close();
    }
  });

  it('keeps WARC response bodies raw when asked (no HTML-to-text library is bundled)', async () => {
    const { dir } = crawl();
    const run = await runGraph(graph([{ id: 'cc', type: 'source.warc', params: { path: 'crawl/c.warc.gz', responses: 'raw', source: 'cc-main' } }]), { dir, registry });
    try {
      expect(run.outcome('cc').error).toBeUndefined();
      const rows = await run.rows('cc');
      expect(rows.map((r) => [r.id, r.url, r.content_type, r.text, r.source])).toEqual([['urn:uuid:resp-1', 'https://html.example/', 'text/html; charset=utf-8', html, 'cc-main']]);
    } finally {
      run.close();
    }
  });

  it('names the file and byte offset of a truncated gzip member instead of dropping the rest of the file', async () => {
    const { dir, wetA } = crawl();
    const good = Buffer.concat(wetA);
    writeFileSync(join(dir, 'crawl/b.warc.wet.gz'), Buffer.concat([good, wet(9, 'x'.repeat(5000)).subarray(0, 40)]));
    const run = await runGraph(graph([{ id: 'cc', type: 'source.warc', params: { path: 'crawl/*.wet.gz' } }]), { dir, registry });
    try {
      const o = run.outcome('cc');
      expect(o.error).toContain(`bad WARC record at byte offset ${good.length}`);
      expect(o.location).toMatchObject({ nodeId: 'cc', file: 'crawl/b.warc.wet.gz' });
    } finally {
      run.close();
    }
  });

  it('names the file and offset of a record without a record id', async () => {
    const dir = tempDir();
    const first = wet(1, 'fine');
    const noId = gzipSync(record({ 'WARC-Type': 'conversion', 'WARC-Target-URI': 'https://x.example/', 'Content-Type': 'text/plain' }, 'orphan'));
    writeFileSync(join(dir, 'one.wet.gz'), Buffer.concat([first, noId]));
    const run = await runGraph(graph([{ id: 'cc', type: 'source.warc', params: { path: 'one.wet.gz' } }]), { dir, registry });
    try {
      const o = run.outcome('cc');
      expect(o.error).toContain(`bad WARC record at byte offset ${first.length}: no WARC-Record-ID header`);
      expect(o.location).toMatchObject({ nodeId: 'cc', file: 'one.wet.gz' });
    } finally {
      run.close();
    }
  });
});
