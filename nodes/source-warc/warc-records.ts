import { createReadStream, statSync } from 'node:fs';
import { WARCParser, type WARCRecord } from 'warcio';
import { NodeError } from '../../engine/sdk/node-error.js';

/** One document taken from a WARC/WET record. */
export interface WarcDocument {
  id: string;
  text: string;
  url: string;
  date: string | null;
  contentType: string | null;
  language: string | null;
  /** Byte offset of the record in the file (of its gzip member, for .gz files). */
  offset: number;
}

export interface ReadOptions {
  /** What to do with WARC `response` records: no maintained HTML-to-text library is installed, so they are skipped or kept as raw bodies. */
  responses: 'skip' | 'raw';
  /** Records whose content is larger are skipped unread, so one huge record cannot exhaust memory. */
  maxRecordBytes: number;
  signal: AbortSignal;
}

export interface ReadCounts {
  records: number;
  documents: number;
  skippedResponses: number;
  skippedOversized: number;
  skippedOther: number;
}

/**
 * Streams the documents of one WARC or WET file (plain or one gzip member per record, as Common
 * Crawl writes them): WET `conversion` records always, WARC `response` records per `responses`.
 * Only one record is in memory at a time. A record warcio cannot parse, or one without a record id
 * or target URI, and data after the last readable record, fail with the file and the byte offset.
 */
export async function* readWarcDocuments(abs: string, file: string, o: ReadOptions, counts: ReadCounts): AsyncGenerator<WarcDocument> {
  const parser = new WARCParser(createReadStream(abs, { highWaterMark: 1 << 20 }));
  const bad = (offset: number, why: string) => new NodeError(`bad WARC record at byte offset ${offset}: ${why}`, { file });
  for (;;) {
    if (o.signal.aborted) return;
    let record: WARCRecord | null;
    try {
      record = await parser.parse();
    } catch (err) {
      throw bad(parser.offset, (err as Error).message);
    }
    if (!record) {
      // warcio ends quietly at a truncated or corrupt gzip member or at bytes that are no record;
      // stopping short of the file's end is that case, and losing the rest of a file silently is not an option.
      const size = statSync(abs).size;
      if (parser.offset < size) throw bad(parser.offset, `${size - parser.offset} bytes from here on are not a readable record (truncated or corrupt gzip member, or not WARC)`);
      return;
    }
    const offset = parser.offset;
    counts.records++;
    const type = record.warcType;
    if (type !== 'conversion' && type !== 'response') {
      counts.skippedOther++;
      continue;
    }
    if (type === 'response' && o.responses === 'skip') {
      counts.skippedResponses++;
      continue;
    }
    if (record.warcContentLength > o.maxRecordBytes) {
      counts.skippedOversized++;
      continue;
    }
    const id = record.warcHeader('WARC-Record-ID');
    if (!id) throw bad(offset, 'no WARC-Record-ID header');
    const url = record.warcTargetURI;
    if (!url) throw bad(offset, `record ${id} has no WARC-Target-URI`);
    let text: string;
    try {
      text = await record.contentText();
    } catch (err) {
      throw bad(offset, `record ${id}: ${(err as Error).message}`);
    }
    const contentType = type === 'response' ? (record.httpHeaders?.headers.get('content-type') ?? null) : (record.warcContentType ?? null);
    counts.documents++;
    yield {
      id: id.replace(/^<|>$/g, ''),
      text,
      url,
      date: record.warcDate ?? null,
      contentType,
      language: record.warcHeader('WARC-Identified-Content-Language') ?? null,
      offset,
    };
  }
}
