import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Preview } from '../api/types';
import { api } from '../store/app';

const ROW_H = 26;
const PAGE = 200;
const OVERSCAN = 8;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function columnWidth(name: string, type: string, sample: unknown[]): number {
  const longest = Math.max(name.length + type.length * 0.6, ...sample.slice(0, 50).map((v) => Math.min(80, cellText(v).length)));
  return Math.round(Math.min(420, Math.max(90, longest * 7.4 + 24)));
}

/**
 * A dataset artifact as a virtualised table: only visible rows are in the DOM, pages of rows are
 * fetched from /api/artifacts/:hash/preview as they scroll into view. Click a row for its full record.
 */
export function DataTable({ hash, first }: { hash: string; first: Preview }) {
  const total = first.rows ?? first.records.length;
  const schema = useMemo(() => first.schema ?? Object.keys(first.records[0] ?? {}).map((name) => ({ name, type: '' })), [first]);
  const [pages, setPages] = useState<Map<number, Record<string, unknown>[]>>(() => new Map([[0, first.records]]));
  const loadingPages = useRef(new Set<number>());
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(300);
  const [detail, setDetail] = useState<number | null>(null);
  const [showSchema, setShowSchema] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setPages(new Map([[0, first.records]]));
    loadingPages.current.clear();
    setDetail(null);
    scroller.current?.scrollTo({ top: 0 });
  }, [hash, first]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const widths = useMemo(
    () =>
      schema.map((c) =>
        columnWidth(
          c.name,
          c.type,
          first.records.map((r) => r[c.name]),
        ),
      ),
    [schema, first],
  );
  const totalWidth = widths.reduce((a, b) => a + b, 56);
  const start = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const end = Math.min(total, Math.ceil((scrollTop + height) / ROW_H) + OVERSCAN);

  const rowAt = useCallback((i: number): Record<string, unknown> | undefined => pages.get(Math.floor(i / PAGE))?.[i % PAGE], [pages]);

  useEffect(() => {
    const need = new Set<number>();
    for (let i = start; i < end; i++) if (!pages.has(Math.floor(i / PAGE))) need.add(Math.floor(i / PAGE));
    for (const p of need) {
      if (loadingPages.current.has(p)) continue;
      loadingPages.current.add(p);
      api
        .preview(hash, p * PAGE, PAGE)
        .then((res) => setPages((m) => new Map(m).set(p, res.records)))
        .catch(() => {})
        .finally(() => loadingPages.current.delete(p));
    }
  }, [start, end, pages, hash]);

  const visible = [];
  for (let i = start; i < end; i++) {
    const r = rowAt(i);
    visible.push(
      <div key={i} className={`dt-row${detail === i ? ' active' : ''}`} style={{ top: i * ROW_H, width: totalWidth }} onClick={() => setDetail(i)} data-testid="dt-row">
        <div className="dt-cell dt-idx">{i + 1}</div>
        {schema.map((c, j) => {
          const text = r ? cellText(r[c.name]) : '';
          return (
            <div key={c.name} className={`dt-cell${r ? '' : ' loading'}`} style={{ width: widths[j] }} title={text.length > 40 ? text.slice(0, 2000) : undefined} data-col={c.name}>
              {r ? text.slice(0, 300) : '…'}
            </div>
          );
        })}
      </div>,
    );
  }

  const detailRow = detail !== null ? rowAt(detail) : undefined;
  return (
    <div className="dt-wrap" data-testid="data-table">
      <div className="dt-meta">
        <span data-testid="row-count">
          <strong>{total.toLocaleString('en-US')}</strong> rows
        </span>
        <span className="muted">· {schema.length} columns</span>
        <button className="btn small ghost" onClick={() => setShowSchema((s) => !s)} data-testid="toggle-schema">
          {showSchema ? 'Hide schema' : 'Schema'}
        </button>
        {showSchema ? (
          <div className="dt-schema" data-testid="schema">
            {schema.map((c) => (
              <span key={c.name} className="schema-col">
                <span className="mono">{c.name}</span> <span className="muted mono">{c.type}</span>
              </span>
            ))}
          </div>
        ) : null}
      </div>
      <div className="dt-body">
        <div className="dt-scroll" ref={scroller} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
          <div className="dt-head" style={{ width: totalWidth }}>
            <div className="dt-cell dt-idx">#</div>
            {schema.map((c, j) => (
              <div key={c.name} className="dt-cell" style={{ width: widths[j] }} title={`${c.name}: ${c.type}`}>
                <span>{c.name}</span> <span className="muted mono small">{c.type}</span>
              </div>
            ))}
          </div>
          <div className="dt-canvas" style={{ height: total * ROW_H, width: totalWidth }}>
            {visible}
          </div>
        </div>
        {detailRow ? (
          <div className="dt-detail" data-testid="row-detail">
            <div className="dt-detail-head">
              <strong>Row {(detail as number) + 1}</strong>
              <button className="btn small ghost" onClick={() => setDetail(null)} aria-label="Close row detail">
                ✕
              </button>
            </div>
            {schema.map((c) => (
              <div key={c.name} className="kv">
                <div className="kv-k mono">{c.name}</div>
                <div className="kv-v">{cellText(detailRow[c.name])}</div>
              </div>
            ))}
          </div>
        ) : null}
      </div>
    </div>
  );
}
