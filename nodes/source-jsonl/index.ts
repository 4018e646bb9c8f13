import { z } from 'zod';
import { diagnoseJsonl, locateDuplicateJsonl, startsWithJsonArray } from '../../engine/sdk/jsonl-diagnose.js';
import { sqlString } from '../../engine/sdk/sql.js';
import { defineTabularSource, recordColumnParams } from '../_sdk/dataset/tabular-source.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'File', description: 'A .jsonl / .json file, relative to the graph', widget: 'file' }),
  format: z.enum(['auto', 'jsonl', 'array']).default('auto').meta({ title: 'Format', description: 'JSON Lines, one JSON array, or detect' }),
  ...recordColumnParams('field'),
  // Unlike CSV and Parquet, JSON records often name their own source: kept unless this is set.
  source: z
    .string()
    .optional()
    .meta({ title: 'Source name', description: 'Set: every record gets this source. Empty: a "source" field of the records is kept as it is, and records without one get the file name' }),
  maxRecordMB: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(16)
    .meta({ title: 'Largest record (MB)', description: "DuckDB's maximum_object_size: it reads in buffers of twice this, so larger costs memory; raise it if an error names maximum_object_size" }),
});

/**
 * Nesting deeper than this is kept as JSON text instead of typed columns: DuckDB's schema detection
 * recurses per level: a 10,000-deep record crashed the process, and 64 typed levels took minutes to write
 * (engine/test/security-inputs).
 */
const MAX_JSON_DEPTH = 16;

export default defineTabularSource({
  type: 'source.jsonl',
  version: 1,
  title: 'JSONL / JSON',
  description: 'Loads records from a JSON Lines file or a JSON array into a dataset (id, text, source, other fields kept).',
  params,
  lines: true,
  deferrable: true,
  read(abs, { format, idField, maxRecordMB, source }) {
    const duckFormat = format === 'jsonl' ? 'newline_delimited' : format === 'array' ? 'array' : 'auto';
    // Line numbers only mean something for JSON Lines; a detected JSON array is one document.
    const lines = format === 'jsonl' || (format === 'auto' && !startsWithJsonArray(abs));
    const limits = `maximum_object_size = ${maxRecordMB * 1024 * 1024}, maximum_depth = ${MAX_JSON_DEPTH}`;
    return {
      relation: `read_json(${sqlString(abs)}, format = '${duckFormat}', records = true, ${limits})`,
      // One record per line lets the loader parse slices of lines in parallel (engine/sdk/loader.ts).
      readLines: lines ? { path: abs, relation: (file, columns) => `read_json(${sqlString(file)}, format = 'newline_delimited', records = true, columns = ${columns}, ${limits})` } : undefined,
      keepSourceColumn: source === undefined,
      diagnose: lines ? (required) => diagnoseJsonl(abs, required) : undefined,
      locateDuplicate: lines && idField ? (id) => locateDuplicateJsonl(abs, idField, id) : undefined,
    };
  },
  module: import.meta.url,
});
