import { round, tooltip } from '../_sdk/report.js';
import { kindOf } from './ast-checker.js';

export interface CategoryScore {
  category: string;
  items: number;
  correct: number;
}

export interface TableRow extends CategoryScore {
  group: string;
  accuracy: number;
}

/** The paper's Table 7 columns: non-live and live AST, (ir)relevance, and an overall mean. */
function groupOf(category: string): string {
  const kind = kindOf(category);
  if (kind === 'irrelevance' || kind === 'relevance') return 'Hallucination';
  return category.startsWith('live_') ? 'Live AST' : 'Non-live AST';
}

/**
 * Per-category rows, then one summary row per group (unweighted mean of its categories, as the
 * leaderboard averages) and an overall row (mean of the group means).
 */
export function summaryRows(cats: readonly CategoryScore[]): TableRow[] {
  const rows: TableRow[] = cats.map((c) => ({ ...c, group: groupOf(c.category), accuracy: c.items > 0 ? c.correct / c.items : 0 }));
  const groups = [...new Set(rows.map((r) => r.group))];
  const summaries: TableRow[] = groups.map((g) => {
    const rs = rows.filter((r) => r.group === g);
    return {
      group: g,
      category: `${g} (mean)`,
      items: rs.reduce((a, r) => a + r.items, 0),
      correct: rs.reduce((a, r) => a + r.correct, 0),
      accuracy: rs.reduce((a, r) => a + r.accuracy, 0) / rs.length,
    };
  });
  if (summaries.length > 0) {
    summaries.push({
      group: 'Overall',
      category: 'Overall (mean)',
      items: rows.reduce((a, r) => a + r.items, 0),
      correct: rows.reduce((a, r) => a + r.correct, 0),
      accuracy: summaries.reduce((a, r) => a + r.accuracy, 0) / summaries.length,
    });
  }
  return [...rows, ...summaries];
}

export function accuracyChart(rows: readonly TableRow[], subtitle: string): Record<string, unknown> {
  return {
    title: { text: 'BFCL accuracy', subtitle },
    data: { values: rows.map((r) => ({ category: r.category, group: r.group, accuracy: round(100 * r.accuracy, 2), items: r.items })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'category', type: 'nominal', sort: null, title: null },
      x: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } },
      color: { field: 'group', type: 'nominal', title: null },
      tooltip: tooltip(['category', 'nominal'], ['accuracy', 'quantitative', '.1f'], ['items', 'quantitative']),
    },
    width: 320,
    height: { step: 16 },
  };
}
