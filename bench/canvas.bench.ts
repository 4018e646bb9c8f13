// Canvas benchmark: the real UI in headless Debian Chromium against `forge serve`.
//   npm run bench:canvas            (300 and 1000 nodes; rewrites the canvas section of bench/RESULTS.md)
//   node bin/bench.mjs bench/canvas.bench.ts --sizes 300,1000,2000 --seconds 3
//   … --profile    also prints where the renderer spent each phase (script, style, layout) and
//                  writes a CPU profile per phase to bench/out/ (open in Chromium DevTools), and
//                  does not touch bench/RESULTS.md
//   … --trace      as --profile, and also writes a Chromium trace per phase (bench/out/*.trace.json,
//                  open in DevTools' Performance panel): paint, layerize and raster show there, where
//                  the CPU profile calls them all "(program)"
// Measures time to first render of a 300-node graph (navigation → every node on screen), and frame
// times (rAF deltas: median, p95) while panning and while zooming, with 300 and 1000 nodes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, launch, serve } from '../e2e/harness.js';
import { BENCH_DIR, fmt, log, machine, machineLine, markdownTable, median, option, percentile, REPO_ROOT, writeSection } from './lib/report.js';

const sizes = (option('sizes') ?? '300,1000').split(',').map(Number);
const seconds = Number(option('seconds') ?? 3);
const firstRenderRuns = Number(option('runs') ?? 3);
const trace = process.argv.includes('--trace');
const profile = trace || process.argv.includes('--profile');

/**
 * Runs one measurement; with --profile, also samples the CPU and reads how long the main thread
 * spent in script, style recalculation and layout during it, which says what a slow frame pays for.
 */
async function profiled<T>(page: Page, name: string, measure: () => Promise<T>): Promise<T> {
  if (!profile) return measure();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  const metrics = async () => new Map((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const browser = page.context().browser();
  const tracePath = join(BENCH_DIR, 'out', `canvas-${name}.trace.json`);
  mkdirSync(join(BENCH_DIR, 'out'), { recursive: true });
  if (trace && browser) await browser.startTracing(page, { path: tracePath, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'cc', 'blink'] });
  const before = await metrics();
  const out = await measure();
  const after = await metrics();
  if (trace && browser) await browser.stopTracing();
  const { profile: cpu } = await cdp.send('Profiler.stop');
  writeFileSync(join(BENCH_DIR, 'out', `canvas-${name}.cpuprofile`), JSON.stringify(cpu));
  const ms = (k: string) => `${fmt(((after.get(k) ?? 0) - (before.get(k) ?? 0)) * 1000, 0)} ms`;
  log(
    `    ${name}: main thread busy ${ms('TaskDuration')} (script ${ms('ScriptDuration')}, style ${ms('RecalcStyleDuration')}, layout ${ms('LayoutDuration')}); profile bench/out/canvas-${name}.cpuprofile`,
  );
  await cdp.detach();
  return out;
}

/** A pipeline-shaped graph: columns of real node types, each node fed by one in the previous column. */
function graph(n: number) {
  const types = [
    { type: 'transform.filter', params: { where: 'length(text) > 20' }, in: 'in', out: 'out' },
    { type: 'transform.sample', params: { mode: 'sample', rows: 100 }, in: 'in', out: 'out' },
    { type: 'transform.sql', params: { query: 'SELECT id, text, source FROM a' }, in: 'a', out: 'out' },
    { type: 'transform.dedup-exact', params: {}, in: 'in', out: 'out' },
  ];
  const perCol = Math.ceil(Math.sqrt(n / 2));
  const nodes: unknown[] = [];
  const edges: unknown[] = [];
  const outPort = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const col = Math.floor(i / perCol);
    const row = i % perCol;
    const id = `n${i}`;
    if (col === 0) {
      nodes.push({ id, type: 'source.jsonl', params: { path: `data/part-${row}.jsonl` }, position: { x: 0, y: row * 180 } });
      outPort.set(id, 'out');
      continue;
    }
    const t = types[(i * 7) % types.length] as (typeof types)[number];
    nodes.push({ id, type: t.type, params: t.params, position: { x: col * 320, y: row * 180 } });
    outPort.set(id, t.out);
    const from = `n${(col - 1) * perCol + ((row * 3 + col) % perCol)}`;
    edges.push({ from: { node: from, port: outPort.get(from) }, to: { node: id, port: t.in } });
  }
  return { format: 'forge-graph', version: 2, name: `bench ${n} nodes`, seed: 0, nodes, edges };
}

/** Collects rAF timestamps in the page until stopped; returns the frame deltas in ms. */
const FRAME_PROBE = `(() => {
  const w = window;
  w.__frames = [];
  w.__framing = true;
  const tick = (t) => { if (!w.__framing) return; w.__frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})()`;
const FRAME_STOP = `(() => { const w = window; w.__framing = false; const f = w.__frames; const d = []; for (let i = 1; i < f.length; i++) d.push(f[i] - f[i - 1]); return d; })()`;

async function paneCenter(page: Page): Promise<{ x: number; y: number; w: number; h: number }> {
  const box = await page.locator('.react-flow__pane').boundingBox();
  if (!box) throw new Error('no canvas');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2, w: box.width, h: box.height };
}

/**
 * A point on the empty pane near its centre. A drag that starts on a node moves the node and one
 * that starts on an edge does nothing, so the pan must start between them (at a 1000-node fit view
 * the centre is usually on an edge).
 */
async function panStart(page: Page, c: { x: number; y: number; w: number; h: number }): Promise<{ x: number; y: number }> {
  // A string, not a function: this file's tsconfig has no DOM lib.
  const p = await page.evaluate<{ x: number; y: number } | null>(`(() => {
    for (let r = 0; r < ${Math.min(c.w, c.h) / 4}; r += 3)
      for (let a = 0; a < 16; a++) {
        const x = ${c.x} + Math.cos((a * Math.PI) / 8) * r;
        const y = ${c.y} + Math.sin((a * Math.PI) / 8) * r;
        if (document.elementFromPoint(x, y)?.classList.contains('react-flow__pane')) return { x, y };
      }
    return null;
  })()`);
  if (!p) throw new Error('no empty spot on the canvas near its centre to start a pan from');
  return p;
}

const viewportTransform = (page: Page) => page.evaluate<string>(`document.querySelector('.react-flow__viewport')?.style.transform ?? ''`);

async function measurePan(page: Page): Promise<number[]> {
  const c = await paneCenter(page);
  const s = await panStart(page, c);
  const before = await viewportTransform(page);
  await page.evaluate(FRAME_PROBE);
  const end = Date.now() + seconds * 1000;
  await page.mouse.move(s.x, s.y);
  await page.mouse.down();
  let t = 0;
  while (Date.now() < end) {
    t += 1;
    // A slow circle: the view keeps moving, the pointer never leaves the pane.
    await page.mouse.move(s.x + Math.cos(t / 20) * c.w * 0.3 - c.w * 0.3, s.y + Math.sin(t / 20) * c.h * 0.3);
  }
  const during = await viewportTransform(page);
  await page.mouse.up();
  const frames = await page.evaluate<number[]>(FRAME_STOP);
  if (during === before) throw new Error(`the pan did not move the view (transform stayed ${before})`);
  return frames;
}

async function measureZoom(page: Page): Promise<number[]> {
  const c = await paneCenter(page);
  await page.mouse.move(c.x, c.y);
  await page.evaluate(FRAME_PROBE);
  const end = Date.now() + seconds * 1000;
  let i = 0;
  while (Date.now() < end) {
    // Zoom in for a while, then out, around the centre.
    await page.mouse.wheel(0, Math.floor(i / 15) % 2 === 0 ? -60 : 60);
    await page.waitForTimeout(8);
    i++;
  }
  return page.evaluate<number[]>(FRAME_STOP);
}

async function main() {
  if (!existsSync(CHROMIUM)) {
    log(`canvas bench: Chromium not found at ${CHROMIUM} (set FORGE_CHROMIUM); nothing measured.`);
    process.exitCode = 1;
    return;
  }
  if (!existsSync(join(REPO_ROOT, 'renderer', 'dist', 'index.html')) || process.argv.includes('--build')) {
    log('building the UI…');
    const b = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'vite'), ['build', '-c', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('UI build failed');
  }
  const served = await serve((ws) => {
    for (const n of new Set([300, ...sizes])) writeFileSync(join(ws, `bench-${n}.forge.json`), JSON.stringify(graph(n)));
  });
  const { browser, page } = await launch();
  const version = browser.version();
  const results: { size: number; firstRenderMs?: number[]; fromGraphLoadMs?: number[]; pan: number[]; zoom: number[]; pan100: number[]; frames: { pan: number; zoom: number; pan100: number } }[] = [];
  try {
    const open = async (n: number) => {
      await page.goto(`${served.url}&file=bench-${n}.forge.json`);
      // Time of the first frame in which every node is in the DOM and measured (visible).
      // Big graphs at fit view may be clamped by the minimum zoom (some nodes off screen and, with
      // onlyRenderVisibleElements, not in the DOM): then "rendered" = the visible count is stable.
      return page.evaluate<{ total: number; fromLoad: number }>(`new Promise((resolve) => {
        const want = ${n};
        let last = -1, stable = 0;
        const check = () => {
          const nodes = document.querySelectorAll('.react-flow__node');
          let visible = 0;
          for (const el of nodes) if (el.style.visibility !== 'hidden') visible++;
          stable = visible > 0 && visible === last ? stable + 1 : 0;
          last = visible;
          if (visible >= want || stable >= 60) {
            const now = performance.now();
            const mark = performance.getEntriesByName('forge:graph-loaded')[0];
            resolve({ total: now, fromLoad: mark ? now - mark.startTime : NaN });
          } else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      })`);
    };
    for (const n of sizes) {
      const r: (typeof results)[number] = { size: n, pan: [], zoom: [], pan100: [], frames: { pan: 0, zoom: 0, pan100: 0 } };
      if (n === 300) {
        r.firstRenderMs = [];
        r.fromGraphLoadMs = [];
        for (let i = 0; i < firstRenderRuns; i++) {
          const t = await open(n);
          r.firstRenderMs.push(t.total);
          r.fromGraphLoadMs.push(t.fromLoad);
          log(`  300 nodes: first render ${fmt(t.total, 0)} ms after navigation (${fmt(t.fromLoad, 0)} ms after the graph was loaded)`);
        }
      } else {
        await open(n);
      }
      await page.waitForTimeout(500);
      const domNodes = await page.locator('.react-flow__node').count();
      const pan = await profiled(page, `pan-${n}`, () => measurePan(page));
      const zoom = await profiled(page, `zoom-${n}`, () => measureZoom(page));
      // Then at 100% (readable) zoom, where only the visible part of the graph is in the DOM.
      // Fit first: the pan and zoom above may have left the middle of the view off the graph, and
      // 100% zooms about the middle.
      await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('Shift+1');
      await page.waitForTimeout(600);
      await page.keyboard.press('Control+0');
      await page.waitForTimeout(400);
      const dom100 = await page.locator('.react-flow__node').count();
      const pan100 = await profiled(page, `pan100-${n}`, () => measurePan(page));
      r.pan = pan;
      r.zoom = zoom;
      r.pan100 = pan100;
      r.frames = { pan: pan.length, zoom: zoom.length, pan100: pan100.length };
      log(
        `  ${n} nodes (${domNodes} in DOM at fit view, ${dom100} at 100%): pan median ${fmt(median(pan))} ms p95 ${fmt(percentile(pan, 95))} ms; zoom median ${fmt(median(zoom))} ms p95 ${fmt(percentile(zoom, 95))} ms; pan at 100% median ${fmt(median(pan100))} ms p95 ${fmt(percentile(pan100, 95))} ms`,
      );
      results.push(r);
    }
  } finally {
    await browser.close();
    await served.stop();
  }

  if (profile) return;
  mkdirSync(join(BENCH_DIR, 'out'), { recursive: true });
  writeFileSync(join(BENCH_DIR, 'out', 'canvas.json'), JSON.stringify({ machine: machine(), chromium: version, seconds, results }, null, 2));
  const m = machine();
  const rows = results.map((r) => [
    String(r.size),
    `${fmt(median(r.pan))} / ${fmt(percentile(r.pan, 95))}`,
    `${fmt(median(r.zoom))} / ${fmt(percentile(r.zoom, 95))}`,
    `${fmt(median(r.pan100))} / ${fmt(percentile(r.pan100, 95))}`,
    `${r.frames.pan} / ${r.frames.zoom} / ${r.frames.pan100}`,
  ]);
  const first = results.find((r) => r.firstRenderMs);
  const body = `## Canvas (headless Chromium)

\`npm run bench:canvas\` — the built UI served by \`forge serve\`, driven by playwright-core in headless
Debian Chromium ${version} (${CHROMIUM_ARGS.join(' ')}; software rendering, 1600×1000 window). Graphs are
pipeline-shaped (sources, filter/sample/SQL/dedup columns, one edge per node) and open at fit view, so
every node is on screen while panning and zooming at fit view; the last column pans at 100% zoom. Frame time = interval between
\`requestAnimationFrame\` callbacks during ${seconds} s of continuous pointer panning and of wheel zooming
(60 Hz display ⇒ 16.7 ms is the floor).

${markdownTable(['nodes', 'pan at fit view: median / p95 (ms)', 'zoom: median / p95 (ms)', 'pan at 100%: median / p95 (ms)', 'frames (pan / zoom / pan 100%)'], rows)}

Each pan is a drag that starts on empty canvas (the bench checks that the view moved: until
2026-12-02 the drag started on an edge at a 1000-node fit view, moved nothing and measured only
hit-testing, so earlier pan figures are not comparable). Zoomed out below 50% the canvas shows
each node's title and state in large type and drops shadows and small text (below 20% plain cards),
switching by visibility so crossing a threshold never re-lays out the nodes. Below 20% (where a
1000-node fit view is) the graph is drawn on one 2D \`<canvas>\` (cards, category strip, run-state
band, every edge in one path): React Flow's node layer stays mounted under \`content-visibility:
hidden\`, it gets no edges, and a pan within the drawn region only moves the bitmap; a gesture
that starts there stays on the canvas up to 50% and shows the DOM nodes when it ends. Graphs over 150
nodes keep only the nodes in view in the DOM (React Flow \`onlyRenderVisibleElements\`), except
zoomed out below 50% with at least 90% of the nodes in view (decided when a pan or zoom ends:
otherwise every step mounted and unmounted the nodes crossing the view's border), and while
the user pans or zooms a transparent shield over the canvas spares Chromium hit-testing every wheel
and pointer event against each node and edge. The
machine is shared (see the load average below), so p95 values carry noise from other work.

${
  first?.firstRenderMs
    ? `Time to first render of 300 nodes (navigation → every node measured and visible, including loading the app, its node catalog and the graph file): median ${fmt(median(first.firstRenderMs), 0)} ms over ${first.firstRenderMs.length} loads (${first.firstRenderMs.map((x) => fmt(x, 0)).join(', ')} ms); of which graph loaded → rendered: median ${fmt(median(first.fromGraphLoadMs ?? []), 0)} ms.`
    : ''
}

${machineLine(m, `Chromium ${version}`)}
`;
  writeSection('canvas', body);
  log('wrote the canvas section of bench/RESULTS.md');
}

await main();
