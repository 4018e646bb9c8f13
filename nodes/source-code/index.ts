import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { globSync } from 'tinyglobby';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { Counts, tokenizerParam } from '../_sdk/dataset/counting.js';
import { relPath } from '../_sdk/files.js';
import { columns, writeRecords, type Cell } from '../_sdk/dataset/records.js';
import { loadTokenizer, tokenizerFiles } from '../_sdk/text/tokenizer.js';

export const LANGUAGES: Record<string, string> = {
  '.py': 'python',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
  '.ts': 'typescript',
  '.tsx': 'typescript',
  '.java': 'java',
  '.kt': 'kotlin',
  '.go': 'go',
  '.rs': 'rust',
  '.c': 'c',
  '.h': 'c',
  '.cc': 'cpp',
  '.cpp': 'cpp',
  '.hpp': 'cpp',
  '.cs': 'csharp',
  '.rb': 'ruby',
  '.php': 'php',
  '.swift': 'swift',
  '.scala': 'scala',
  '.sh': 'shell',
  '.bash': 'shell',
  '.sql': 'sql',
  '.r': 'r',
  '.jl': 'julia',
  '.lua': 'lua',
  '.pl': 'perl',
  '.json': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.toml': 'toml',
  '.md': 'markdown',
  '.html': 'html',
  '.css': 'css',
};

const params = z.object({
  pattern: z.string().min(1).meta({ title: 'Files (glob)', description: 'e.g. src/**/*.{py,ts}, relative to the graph', widget: 'glob' }),
  exclude: z.array(z.string().min(1)).default(['**/node_modules/**', '**/.git/**', '**/dist/**']).meta({ title: 'Exclude (globs)' }),
  maxBytes: z.number().int().positive().default(1_000_000).meta({ title: 'Largest file (bytes)', description: 'Bigger files are skipped (generated or vendored code)' }),
  pathHeader: z.boolean().default(false).meta({ title: 'Prefix the path', description: 'Start each document with a "# file: <path>" line' }),
  source: z.string().min(1).default('code').meta({ title: 'Source name' }),
  tokenizer: tokenizerParam,
});

function expand(p: z.output<typeof params>, baseDir: string): string[] {
  return globSync(p.pattern, { cwd: baseDir, onlyFiles: true, absolute: true, ignore: p.exclude }).sort();
}

export default defineNode({
  type: 'source.code',
  version: 1,
  category: 'Sources',
  title: 'Code files',
  description: 'Loads source code files matched by a glob, one document per file, with language (from the extension), bytes, lines and tokens. Binary and oversized files are skipped and counted.',
  inputs: {},
  outputs: { out: { kind: 'dataset', title: 'code' } },
  params,
  deterministic: true,
  inputFiles: (p, baseDir) => [...expand(p, baseDir), ...tokenizerFiles(p.tokenizer, baseDir)],
  async run(ctx) {
    const p = ctx.params;
    const files = expand(p, ctx.baseDir);
    if (files.length === 0) throw new NodeError(`no files match ${p.pattern}`, { file: p.pattern, field: 'pattern' });
    const counts = new Counts(loadTokenizer(p.tokenizer, ctx.baseDir));
    const rows: Cell[][] = [];
    let tooBig = 0;
    let binary = 0;
    for (const [i, abs] of files.entries()) {
      const rel = relPath(ctx.baseDir, abs);
      const size = statSync(abs).size;
      if (size > p.maxBytes) {
        tooBig++;
        continue;
      }
      const buf = readFileSync(abs);
      if (buf.includes(0)) {
        binary++;
        continue;
      }
      const content = buf.toString('utf8');
      const text = p.pathHeader ? `# file: ${rel}\n${content}` : content;
      if (!text.trim()) continue;
      const language = LANGUAGES[extname(abs).toLowerCase()] ?? (extname(abs).slice(1).toLowerCase() || 'text');
      const lines = content.length === 0 ? 0 : content.split('\n').length - (content.endsWith('\n') ? 1 : 0);
      rows.push([rel, text, p.source, language, rel, size, lines, counts.add(language, text)]);
      if (i % 50 === 0) ctx.progress(i + 1, files.length, rel);
    }
    if (rows.length === 0) throw new NodeError(`all ${files.length} matched files were empty, binary or over ${p.maxBytes} bytes`, { file: p.pattern, field: 'pattern' });
    const out = ctx.output('out');
    await writeRecords(
      await ctx.duckdb(),
      out,
      columns({ id: 'VARCHAR', text: 'VARCHAR', source: 'VARCHAR', language: 'VARCHAR', path: 'VARCHAR', bytes: 'BIGINT', lines: 'BIGINT', tokens: 'BIGINT' }),
      rows,
    );
    out.setMeta('skipped_too_big', tooBig);
    out.setMeta('skipped_binary', binary);
    counts.report(out, (m) => ctx.log(`${m}${tooBig + binary > 0 ? `; skipped ${tooBig} oversized, ${binary} binary` : ''}`), 'language');
  },
  module: import.meta.url,
});
