import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode, type InputItem } from '../../engine/sdk/types.js';
import { freshTempBeside, moveOwnFiles, sweepDeadTemps } from '../../engine/sdk/security.js';
import { renderSvg, writeMetrics } from '../_sdk/report.js';
import { renderReport, type ReportSection } from './render.js';

const params = z.object({
  title: z.string().default('Report').meta({ title: 'Title' }),
  folder: z.string().min(1).optional().meta({
    title: 'Output folder',
    description: 'Where report.md and one SVG per chart are written (relative to the graph); empty keeps the report in the workspace only',
    widget: 'save-folder',
  }),
  keys: z
    .record(z.string(), z.array(z.string()))
    .default({})
    .meta({ title: 'Metrics to show', description: 'Per upstream node id, the metric names to report, e.g. { "quality": ["precision", "recall", "f1"] }; nodes not listed show every metric' }),
  labels: z.record(z.string(), z.string()).default({}).meta({ title: 'Section titles', description: 'Per upstream node id' }),
});

export default defineNode({
  type: 'sink.report',
  version: 1,
  category: 'Sinks',
  title: 'Report',
  description:
    'Collects metrics and charts into a readable report: a Markdown summary (swept metrics become one table row per variant) printed by the CLI after the run, plus report.md and an SVG per chart written to a folder.',
  inputs: {
    metrics: { kind: 'metrics', multiple: true, title: 'metrics' },
    charts: { kind: 'chart', multiple: true, title: 'charts' },
  },
  outputs: { report: { kind: 'metrics' } },
  params,
  deterministic: true,
  async run(ctx) {
    const { title, folder, keys, labels } = ctx.params;
    const metricItems = ctx.inputs('metrics');
    const chartItems = ctx.inputs('charts');
    if (metricItems.length === 0 && chartItems.length === 0) throw new NodeError('nothing to report: connect metrics or charts', { field: 'inputs.metrics' });

    const sections: ReportSection[] = [];
    for (const [node, items] of groupByNode(metricItems)) {
      sections.push({
        node,
        title: labels[node] ?? node,
        rows: items.map((i) => ({ variant: i.variant, values: readMetrics(i, keys[node]) })),
      });
    }
    const charts: { name: string; spec: Record<string, unknown> }[] = [];
    for (const item of chartItems) {
      const spec = JSON.parse(readFileSync(join(item.ref.dir, 'chart.json'), 'utf8')) as Record<string, unknown>;
      const suffix = Object.values(item.variant).map(String).join('_');
      charts.push({ name: `${item.fromNode}${suffix ? `-${suffix}` : ''}`, spec });
    }
    const names = charts.map((c) => `${c.name}.svg`);
    const markdown = renderReport(title, sections, folder ? { folder, names, embed: false } : null);

    const out = ctx.output('report');
    writeFileSync(out.file('report.md'), markdown);
    writeMetrics(out, { title, sections: sections.length, charts: charts.length });
    out.setMeta('report', markdown);

    if (folder) {
      // Written into a fresh folder beside the target, then only our own files are moved in: a
      // failed run leaves no half report, and nothing the sink did not write is ever deleted.
      const target = ctx.resolvePath(folder);
      sweepDeadTemps(target);
      const tmp = freshTempBeside(target);
      writeFileSync(join(tmp, 'report.md'), renderReport(title, sections, { folder, names, embed: true }));
      for (const c of charts) {
        writeFileSync(join(tmp, `${c.name}.svg`), await renderSvg(c.spec));
        writeFileSync(join(tmp, `${c.name}.vl.json`), JSON.stringify(c.spec, null, 2));
      }
      try {
        moveOwnFiles(tmp, target);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      ctx.log(`wrote ${folder}/report.md and ${charts.length} chart(s)`);
    }
  },
  module: import.meta.url,
});

function groupByNode(items: InputItem[]): Map<string, InputItem[]> {
  const groups = new Map<string, InputItem[]>();
  for (const i of items) groups.set(i.fromNode, [...(groups.get(i.fromNode) ?? []), i]);
  return groups;
}

function readMetrics(item: InputItem, wanted: string[] | undefined): Record<string, number | string> {
  const path = join(item.ref.dir, 'metrics.json');
  const all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number | string>;
  if (!wanted) return all;
  return Object.fromEntries(wanted.filter((k) => k in all).map((k) => [k, all[k] as number | string]));
}
