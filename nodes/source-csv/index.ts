import { z } from 'zod';
import { decodeLine, scanLines, type FieldRequirement, type LineProblem } from '../../engine/sdk/jsonl-diagnose.js';
import { sqlString } from '../../engine/sdk/sql.js';
import { defineTabularSource, recordColumnParams } from '../_sdk/dataset/tabular-source.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'File', widget: 'file' }),
  delimiter: z.string().max(1).optional().meta({ title: 'Delimiter', description: 'Empty to detect' }),
  header: z.boolean().default(true).meta({ title: 'First row is a header' }),
  ...recordColumnParams('column'),
});

export default defineTabularSource({
  type: 'source.csv',
  version: 1,
  title: 'CSV',
  description: 'Loads a CSV/TSV file into a dataset; the text column becomes `text`, other columns are kept.',
  params,
  lines: true,
  read(abs, { delimiter, header, idField }) {
    // The quote is fixed to RFC 4180's: left to the sniffer, an unterminated quote made it pick "no
    // quoting" and the file loaded silently with the quote inside the text.
    const options = [`header = ${header}`, delimiter ? `delim = ${sqlString(delimiter)}` : null, `quote = '"'`, 'strict_mode = true'].filter(Boolean).join(', ');
    return {
      relation: `read_csv(${sqlString(abs)}, ${options})`,
      diagnose: (required) => diagnoseCsv(abs, { delimiter, header }, required),
      locateDuplicate: idField ? (id) => locateDuplicateCsv(abs, { delimiter, header }, idField, id) : undefined,
    };
  },
  module: import.meta.url,
});

interface CsvDialect {
  delimiter?: string;
  header: boolean;
}

interface CsvRecord {
  /** 1-based line the record starts on (a quoted field may span lines). */
  line: number;
  fields: string[];
}

/**
 * Walks a CSV file record by record (RFC 4180 quoting), with the line each record starts on, until
 * `visit` returns something. Used only after DuckDB rejected or misread a file: DuckDB's sniffer
 * silently falls back to a single column when a row is ragged, and its errors do not always carry
 * a line, so the loader asks this scan where the file goes wrong.
 */
async function scanCsv<T>(path: string, dialect: CsvDialect, visit: (rec: CsvRecord, columns: string[]) => T | null): Promise<T | LineProblem | null> {
  let delim = dialect.delimiter || undefined;
  let columns: string[] | undefined;
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let start = 0;
  const found = await scanLines<T | LineProblem>(path, (bytes, line) => {
    const decoded = decodeLine(bytes, line);
    if ('problem' in decoded) return decoded.problem;
    const text = line === 1 ? decoded.text.replace(/^\uFEFF/, '') : decoded.text;
    if (!inQuotes) {
      if (text.trim() === '') return null;
      start = line;
      fields = [];
      field = '';
    }
    delim ??= guessDelimiter(text);
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inQuotes) {
        if (c !== '"') field += c;
        else if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else if (c === '"' && field === '') inQuotes = true;
      else if (c === delim) {
        fields.push(field);
        field = '';
      } else field += c;
    }
    if (inQuotes) {
      field += '\n';
      return null;
    }
    fields.push(field);
    const rec = { line: start, fields };
    if (!columns) {
      columns = dialect.header ? fields : fields.map((_, i) => `column${i}`);
      if (dialect.header) return null;
    }
    if (rec.fields.length !== columns.length) {
      const what = dialect.header ? 'the header has' : 'the first row has';
      return { line: rec.line, message: `expected ${columns.length} fields (${what} ${columns.length}), found ${rec.fields.length}` };
    }
    return visit(rec, columns);
  });
  if (found === null && inQuotes) return { line: start, message: `the quoted field opened on line ${start} is never closed` };
  return found;
}

/** The most frequent candidate outside quotes on the first line; a comma if none occurs. */
function guessDelimiter(firstLine: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const c of firstLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && [',', '\t', ';', '|'].includes(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ',';
}

/** The first line of a CSV file that is ragged or not UTF-8, or (with `required`) whose required cell is empty. */
async function diagnoseCsv(path: string, dialect: CsvDialect, required?: FieldRequirement): Promise<LineProblem | null> {
  return scanCsv<LineProblem>(path, dialect, (rec, columns) => {
    if (!required) return null;
    const at = columns.indexOf(required.field);
    if (at < 0 || rec.fields[at] !== '') return null;
    return { line: rec.line, field: required.field, message: `field "${required.field}" is empty` };
  });
}

async function locateDuplicateCsv(path: string, dialect: CsvDialect, idField: string, id: string): Promise<{ line: number; firstLine: number } | null> {
  let firstLine: number | undefined;
  const found = await scanCsv(path, dialect, (rec, columns) => {
    const at = columns.indexOf(idField);
    if (at < 0 || rec.fields[at] !== id) return null;
    if (firstLine === undefined) {
      firstLine = rec.line;
      return null;
    }
    return { line: rec.line, firstLine };
  });
  return found && 'firstLine' in found ? found : null;
}
