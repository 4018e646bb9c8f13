export interface ReportSection {
  node: string;
  title: string;
  rows: { variant: Record<string, unknown>; values: Record<string, number | string> }[];
}

function fmt(v: unknown): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toPrecision(4) : v.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
  }
  return String(v);
}

/**
 * Markdown for the terminal and for report.md. A node seen once becomes a key/value list; a node
 * seen once per sweep variant becomes a table with the swept values as leading columns.
 */
export interface ChartFiles {
  /** The report folder as the user wrote it (relative to the graph), for the printed summary. */
  folder: string;
  /** File names inside that folder, e.g. `fit.svg`. */
  names: string[];
  /** report.md sits in the folder itself, so it embeds the images; the summary lists the files. */
  embed: boolean;
}

export function renderReport(title: string, sections: ReportSection[], charts: ChartFiles | null): string {
  const lines = [`# ${title}`, ''];
  for (const s of sections) {
    lines.push(`## ${s.title}`, '');
    const swept = s.rows.length > 1 || Object.keys(s.rows[0]?.variant ?? {}).length > 0;
    if (!swept) {
      for (const [k, v] of Object.entries(s.rows[0]?.values ?? {})) lines.push(`- ${k}: ${fmt(v)}`);
    } else {
      const varKeys = [...new Set(s.rows.flatMap((r) => Object.keys(r.variant)))];
      const valKeys = [...new Set(s.rows.flatMap((r) => Object.keys(r.values)))];
      const header = [...varKeys, ...valKeys];
      lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
      for (const r of s.rows) lines.push(`| ${[...varKeys.map((k) => fmt(r.variant[k])), ...valKeys.map((k) => fmt(r.values[k] ?? ''))].join(' | ')} |`);
    }
    lines.push('');
  }
  if (charts && charts.names.length > 0) {
    lines.push('## Charts', '');
    if (charts.embed) {
      for (const f of charts.names) lines.push(`![${f.replace(/\.svg$/, '')}](${encodeURI(f)})`, '');
    } else {
      lines.push(`${charts.names.length} SVG files in \`${charts.folder.replace(/\/+$/, '')}/\` (relative to the graph file), with report.md:`, '');
      lines.push(charts.names.map((f) => `\`${f}\``).join(', '), '');
    }
  }
  return lines.join('\n');
}
