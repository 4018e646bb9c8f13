import { describe, expect, it } from 'vitest';
import { renderReport, type ReportSection } from './render.js';

const sections: ReportSection[] = [
  { node: 'quality', title: 'Filter', rows: [{ variant: {}, values: { precision: 0.9, recall: 1 } }] },
  {
    node: 'evaluate',
    title: 'Loss per share',
    rows: [
      { variant: { 'mix.agentShare': 0 }, values: { 'agent.nll': 9.85 } },
      { variant: { 'mix.agentShare': 0.5 }, values: { 'agent.nll': 2.67 } },
    ],
  },
];

describe('report markdown', () => {
  it('lists single metrics, tabulates swept ones, and names the chart folder in the summary', () => {
    const md = renderReport('Example', sections, { folder: '../../out/example/', names: ['fit.svg', 'mix-0.5.svg'], embed: false });
    expect(md).toContain('- precision: 0.9');
    expect(md).toContain('| mix.agentShare | agent.nll |');
    expect(md).toContain('| 0.5 | 2.67 |');
    expect(md).toContain('2 SVG files in `../../out/example/`');
    expect(md).toContain('`fit.svg`, `mix-0.5.svg`');
    expect(md).not.toContain('![');
  });

  it('report.md embeds the charts beside it by file name', () => {
    const md = renderReport('Example', sections, { folder: 'out', names: ['fit.svg', 'a b.svg'], embed: true });
    expect(md).toContain('![fit](fit.svg)');
    expect(md).toContain('![a b](a%20b.svg)');
    expect(md).not.toContain('out/');
  });

  it('has no chart section without a folder', () => {
    expect(renderReport('Example', sections, null)).not.toContain('## Charts');
  });
});
