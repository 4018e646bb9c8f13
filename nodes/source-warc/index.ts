import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { sqlString } from '../../engine/sdk/sql.js';
import { defineNode } from '../../engine/sdk/types.js';
import { fileShardSource, startFileShards, writeFileShards } from '../_sdk/dataset/file-shards.js';
import { readWarcDocuments, type ReadCounts } from './warc-records.js';

const params = z.object({
  path: z
    .string()
    .min(1)
    .meta({ title: 'WARC / WET file, folder or glob', description: 'e.g. crawl/*.warc.wet.gz; plain or gzip (one member per record, as Common Crawl writes them)', widget: 'file' }),
  include: z.string().min(1).default('**/*.{warc,wet,warc.gz,wet.gz}').meta({ title: 'Files in a folder (glob)' }),
  responses: z.enum(['skip', 'raw']).default('skip').meta({
    title: 'WARC response records',
    description: 'No HTML-to-text library is bundled: skip them (use the WET files for text), or keep the raw body (HTML) as text',
  }),
  maxRecordMB: z.number().int().min(1).max(1024).default(16).meta({ title: 'Largest record (MB)', description: 'Bigger records are skipped unread and counted' }),
  source: z.string().min(1).default('commoncrawl').meta({ title: 'Source name' }),
});

/** The dataset columns, in order; the scratch JSON Lines is read back with exactly these types. */
const COLUMNS: [string, string][] = [
  ['id', 'VARCHAR'],
  ['text', 'VARCHAR'],
  ['source', 'VARCHAR'],
  ['url', 'VARCHAR'],
  ['date', 'VARCHAR'],
  ['content_type', 'VARCHAR'],
  ['language', 'VARCHAR'],
  ['warc_file', 'VARCHAR'],
  ['warc_offset', 'BIGINT'],
];

/** Scratch lines are flushed in blocks of this size: memory stays bounded by one record plus this. */
const FLUSH_BYTES = 1 << 20;

export default defineNode({
  type: 'source.warc',
  version: 1,
  category: 'Sources',
  title: 'WARC / WET (Common Crawl)',
  description:
    'Streams Common Crawl WARC and WET files (gzip members or plain) into a dataset, one output shard per file: id (WARC record id), text, url, date, content type, language. WET text is kept; WARC response bodies are skipped or kept raw.',
  ...fileShardSource('documents'),
  params,
  async run(ctx) {
    const p = ctx.params;
    const { units, conn, out } = await startFileShards(ctx, 'WARC or WET');
    const counts: ReadCounts = { records: 0, documents: 0, skippedResponses: 0, skippedOversized: 0, skippedOther: 0 };
    const maxRecordBytes = p.maxRecordMB * 1024 * 1024;

    const result = await writeFileShards(ctx, conn, out, units, async (unit) => {
      // Records stream into a JSON Lines scratch file that DuckDB then writes as the file's shard.
      const scratch = `${out.dir}.warc-${unit.index}.jsonl`;
      const fd = openSync(scratch, 'w');
      try {
        let block = '';
        for await (const d of readWarcDocuments(unit.abs, unit.file, { responses: p.responses, maxRecordBytes, signal: ctx.signal }, counts)) {
          block += `${JSON.stringify({ id: d.id, text: d.text, source: p.source, url: d.url, date: d.date, content_type: d.contentType, language: d.language, warc_file: unit.file, warc_offset: d.offset })}\n`;
          if (block.length >= FLUSH_BYTES) {
            writeSync(fd, block);
            block = '';
          }
        }
        if (block) writeSync(fd, block);
      } finally {
        closeSync(fd);
      }
      const columns = `{${COLUMNS.map(([n, t]) => `${n}: '${t}'`).join(', ')}}`;
      return {
        query: `SELECT ${COLUMNS.map(([n]) => n).join(', ')} FROM read_json(${sqlString(scratch)}, format = 'newline_delimited', columns = ${columns}, maximum_object_size = ${2 * maxRecordBytes + 1024 * 1024})`,
        cleanup: () => rmSync(scratch, { force: true }),
      };
    });

    if (result.rows === 0 && result.reused.length === 0) {
      throw new NodeError(
        `no documents in ${units.length} file(s): ${counts.records} records, ${counts.skippedResponses} response records skipped (responses: skip; use WET files or responses: raw), ${counts.skippedOversized} over ${p.maxRecordMB} MB`,
        { file: p.path, field: 'path' },
      );
    }
    out.setMeta('files', units.length);
    out.setMeta('documents', result.rows);
    // Counts cover the files read by this execution; files reused from the shard cache were counted by an earlier one.
    out.setMeta('files_read', result.executed.length);
    out.setMeta('skipped_responses', counts.skippedResponses);
    out.setMeta('skipped_oversized', counts.skippedOversized);
    out.setMeta('skipped_other_records', counts.skippedOther);
    ctx.log(
      `${result.rows} documents from ${units.length} file(s); skipped ${counts.skippedResponses} response, ${counts.skippedOversized} oversized and ${counts.skippedOther} other (warcinfo, request, metadata) records`,
    );
  },
  module: import.meta.url,
});
