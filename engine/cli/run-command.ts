import cliProgress from 'cli-progress';
import type { GraphDocument } from '../graph/document.js';
import type { Engine } from '../engine.js';
import type { Executor } from '../exec/executor.js';
import type { NodeOutcome, RunEvent, RunSummary } from '../exec/events.js';
import type { RunMode } from '../provenance/events.js';
import { formatLocation } from '../graph/errors.js';
import { bytes, ms, short, table } from './format.js';
import { askTrustOnTty } from '../security/consent.js';
import { UntrustedGraphError } from '../security/trust.js';

export interface RunCommandOptions {
  file: string;
  doc: GraphDocument;
  baseDir: string;
  mode: RunMode;
  target?: string;
  force: boolean;
  continueOnFailure?: boolean;
  json: boolean;
  quiet: boolean;
  /** The user consented up front (`--trust`). */
  trust?: boolean;
  /** A queue executor (`--queue`); closed when the run ends. Local threads when absent. */
  executor?: Executor;
}

/**
 * Runs a graph from the terminal: live per-node bars on a TTY, one line per event otherwise,
 * Ctrl-C cancels cleanly (a second Ctrl-C exits at once), then a summary table.
 */
export async function runCommand(engine: Engine, o: RunCommandOptions): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ncancelling… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const view = o.json || o.quiet ? null : process.stderr.isTTY ? new BarView() : new LineView();
  let summary: RunSummary;
  // SECURITY: without --trust, a graph that needs trust is put to the user on a TTY (engine/security/consent.ts).
  const run = (trust: boolean) =>
    engine.run(o.doc, {
      file: o.file,
      baseDir: o.baseDir,
      mode: o.mode,
      target: o.target,
      force: o.force,
      continueOnFailure: o.continueOnFailure ?? false,
      trigger: 'cli',
      signal: controller.signal,
      onEvent: (e) => view?.onEvent(e),
      trust,
      executor: o.executor,
    });
  try {
    try {
      summary = await run(o.trust ?? false);
    } catch (err) {
      if (!(err instanceof UntrustedGraphError) || o.json || !(await askTrustOnTty(err))) throw err;
      summary = await run(true);
    }
  } finally {
    await o.executor?.close();
    view?.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    printSummary(summary);
    printReports(engine, summary);
  }
  return summary.status === 'succeeded' ? 0 : summary.status === 'cancelled' ? 130 : 1;
}

/** Nodes may publish a human-readable report (a `report` string in an output's meta): show it. */
function printReports(engine: Engine, s: RunSummary): void {
  for (const n of s.nodes) {
    for (const o of n.outputs) {
      const report = engine.ws.store.has(o.hash) ? engine.ws.store.manifest(o.hash).meta.report : undefined;
      if (typeof report === 'string') process.stdout.write(`\n${report.trimEnd()}\n`);
    }
  }
}

function stateLabel(n: NodeOutcome): string {
  return n.state === 'executed' ? 'ran' : n.state;
}

export function printSummary(s: RunSummary): void {
  const rows = s.nodes.map((n) => [
    n.nodeId,
    n.nodeType,
    stateLabel(n),
    n.state === 'executed' ? ms(n.durationMs) : '',
    n.peakRssBytes ? bytes(n.peakRssBytes) : '',
    n.outputs.map((o) => `${o.port}=${short(o.hash, 10)}${o.rows !== null && o.kind === 'dataset' ? ` (${o.rows} rows, ${bytes(o.bytes)})` : ''}`).join(' '),
  ]);
  const count = (st: NodeOutcome['state']) => s.nodes.filter((n) => n.state === st).length;
  process.stdout.write(`${table(['node', 'type', 'state', 'time', 'peak memory', 'outputs'], rows)}\n\n`);
  for (const n of s.nodes.filter((x) => x.state === 'failed')) {
    process.stdout.write(`✖ ${formatLocation(n.location ?? { nodeId: n.nodeId })}: ${n.error}\n`);
  }
  for (const n of s.skipped) process.stdout.write(`- ${n.nodeId} skipped: ${n.reason}\n`);
  process.stdout.write(
    `run ${s.runId} ${s.status}: ${count('executed')} ran, ${count('cached') + count('pinned') + count('bypassed')} cached, ${count('failed')} failed, ${count('skipped') + count('cancelled')} skipped in ${ms(s.durationMs)}\n`,
  );
}

interface View {
  onEvent(e: RunEvent): void;
  stop(): void;
}

class LineView implements View {
  onEvent(e: RunEvent): void {
    const w = (s: string) => process.stderr.write(`${s}\n`);
    switch (e.type) {
      case 'run.started':
        w(`run ${e.runId}: ${e.nodes.length} node(s)`);
        break;
      case 'node.started':
        w(`▶ ${e.nodeId}`);
        break;
      case 'node.cached':
        w(`○ ${e.nodeId} ${e.outcome.state}`);
        break;
      case 'node.finished':
        w(`✔ ${e.nodeId} ${ms(e.outcome.durationMs)}`);
        break;
      case 'node.failed':
        w(`✖ ${e.nodeId}: ${e.outcome.error}`);
        break;
      case 'node.skipped':
        w(`- ${e.nodeId}: ${e.outcome.error}`);
        break;
      case 'node.log':
        if (e.level !== 'info') w(`  ${e.nodeId} ${e.level}: ${e.message}`);
        break;
      default:
        break;
    }
  }
  stop(): void {}
}

class BarView implements View {
  private readonly multi = new cliProgress.MultiBar(
    { format: ' {state} {node} |{bar}| {value}/{total} {message}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, barsize: 24, fps: 10 },
    cliProgress.Presets.shades_grey,
  );
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private width = 10;

  onEvent(e: RunEvent): void {
    if (e.type === 'run.started') {
      this.width = Math.max(10, ...e.nodes.map((n) => n.length));
      return;
    }
    if (e.type === 'run.finished' || !('nodeId' in e)) return;
    const node = e.nodeId.padEnd(this.width);
    let bar = this.bars.get(e.nodeId);
    if (!bar) {
      bar = this.multi.create(1, 0, { node, state: '·', message: '' });
      this.bars.set(e.nodeId, bar);
    }
    switch (e.type) {
      case 'node.started':
        bar.update(0, { state: '▶', message: 'running' });
        break;
      case 'node.progress':
        if (e.total !== undefined) bar.setTotal(Math.max(1, e.total));
        bar.update(e.done, { message: e.message ?? '' });
        break;
      case 'node.cached':
        bar.update(1, { state: '○', message: e.outcome.state });
        break;
      case 'node.finished':
        bar.setTotal(1);
        bar.update(1, { state: '✔', message: ms(e.outcome.durationMs) });
        break;
      case 'node.failed':
        bar.update(0, { state: '✖', message: (e.outcome.error ?? '').slice(0, 80) });
        break;
      case 'node.skipped':
        bar.update(0, { state: '-', message: e.outcome.state });
        break;
      default:
        break;
    }
  }

  stop(): void {
    this.multi.stop();
  }
}
