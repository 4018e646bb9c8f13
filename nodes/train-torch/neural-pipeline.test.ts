import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { GraphDocument, GraphNode } from '../../engine/graph/document.js';
import { readTorchLmHeader } from '../_sdk/onnx/causal-lm.js';
import { cleanupTempDirs, closeExecutor, runGraph } from '../_sdk/testing/graph.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

/** PyTorch and ONNX Runtime in child processes on a busy shared CI machine: generous, not a speed check. */
const SLOW = 600_000;

const EXAMPLES = fileURLToPath(new URL('../../resources/examples/', import.meta.url));
const EXAMPLE = join(EXAMPLES, 'hephaestus-neural.forge.json');

/** The shipped neural example, its relative paths made absolute so it runs from a temp workspace. */
function loadExample(): GraphDocument {
  const doc = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as GraphDocument;
  for (const n of doc.nodes) for (const [k, v] of Object.entries(n.params ?? {})) if (typeof v === 'string' && v.startsWith('../')) (n.params as Record<string, unknown>)[k] = join(EXAMPLES, v);
  return doc;
}

/** Overrides params of a node that must exist in the example, so a renamed node fails here loudly. */
function tune(doc: GraphDocument, id: string, params: Record<string, unknown>, node: Partial<GraphNode> = {}): void {
  const n = doc.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`the neural example has no node ${id}`);
  n.params = { ...n.params, ...params };
  Object.assign(n, node);
}

const finite = (v: unknown): number => {
  expect(typeof v).toBe('number');
  expect(Number.isFinite(v)).toBe(true);
  return v as number;
};

/**
 * The example's own graph (same nodes, edges and tokenizer) with every size cut down: 4 Dirichlet
 * mixes (the 3-domain law needs one more point than domains), one-block models, a handful of steps,
 * three documents per benchmark (scoring is the costly part: every token's log-softmax over the
 * tokenizer's 30 523 ids).
 */
function tinyExample(): GraphDocument {
  const doc = loadExample();
  const mix = doc.nodes.find((n) => n.id === 'mix');
  const dirichlet = (mix?.sweep as { dirichlet?: { samples: number } } | undefined)?.dirichlet;
  if (!dirichlet) throw new Error('the example no longer sweeps mix over a Dirichlet');
  dirichlet.samples = 4;
  tune(doc, 'mix', { totalTokens: 3000 });
  tune(doc, 'mix_opt', { totalTokens: 3000 });
  const arch = { layers: 1, dModel: 16, heads: 2, ffn: 32, context: 16, batch: 4, steps: 6, warmupSteps: 1, threads: 1 };
  tune(doc, 'proxy', arch);
  tune(doc, 'stage1', arch);
  tune(doc, 'stage2', { steps: 4, batch: 4, warmupSteps: 1, threads: 1 });
  tune(doc, 'stage3', { steps: 4, batch: 4, warmupSteps: 1, threads: 1 });
  for (const id of ['evaluate', 'eval_opt', 'eval_stages']) tune(doc, id, { maxDocuments: 3, provider: 'cpu', threads: 1 });
  tune(doc, 'fit', { bootstrap: 20, gridSteps: 20 });
  tune(doc, 'validate', { gridSteps: 20 });
  tune(doc, 'report', { folder: 'report' });
  return doc;
}

describe('the neural Hephaestus pipeline, tiny, end to end on CPU', () => {
  it(
    'sweeps mixes, fits the law, validates at the optimum, runs the three stages, scores the ONNX checkpoints and skips BFCL without an endpoint',
    async () => {
      // No trust: train.torch runs its own train.py with the default interpreter.
      const run = await runGraph(tinyExample());
      try {
        const failed = run.summary.nodes.filter((n) => n.state !== 'executed').map((n) => `${n.nodeId}: ${n.state} ${n.error ?? ''}`);
        expect(failed).toEqual([]);
        expect(run.summary.status).toBe('succeeded');

        // The sweep: four proxies trained by PyTorch, each scored through ONNX Runtime.
        const proxies = run.summary.nodes.filter((n) => n.baseNodeId === 'proxy');
        expect(proxies).toHaveLength(4);
        for (const p of proxies) expect(existsSync(join(run.engine.ws.store.ref((p.outputs.find((o) => o.port === 'model') as { hash: string }).hash).dir, 'model.onnx'))).toBe(true);
        const evals = run.summary.nodes.filter((n) => n.baseNodeId === 'evaluate');
        expect(evals).toHaveLength(4);
        for (const e of evals) expect(e.device).toBe('onnxruntime:cpu');

        // The fit names an optimum on the simplex, with its predicted loss and the best sampled mix.
        const fit = run.metrics('fit');
        expect(fit.points).toBe(4);
        const shares = ['a', 'b', 'c'].map((k) => finite(fit[`optimum.mix.shares.${k}`]));
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        for (const s of shares) expect(s).toBeGreaterThanOrEqual(0);
        finite(fit['optimum.predicted_loss']);
        const bestSampled = finite(fit['best_sampled.loss']);

        // The validation run trained at that optimum (Stage I) is reported beside the best sampled mix.
        const opt = run.metrics('eval_opt');
        expect(opt['model.stages']).toBe('Stage I');
        const val = run.metrics('validate');
        const validation = finite(val['validation.loss']);
        expect(validation).toBeCloseTo((Number(opt['agent.nll']) + Number(opt['code.nll']) + Number(opt['text.nll'])) / 3, 5);
        expect(val['best_sampled.loss']).toBe(bestSampled);
        expect(val['validation.minus_best_sampled']).toBeCloseTo(validation - bestSampled, 5);
        // ...and its mix really is the fitted optimum.
        const mixOpt = run.metrics('mix_opt');
        ['agent', 'code', 'text'].forEach((d, j) => expect(Number(mixOpt[`${d}.target_share`])).toBeCloseTo(shares[j] as number, 5));

        // The three stages chained on one checkpoint; Stage III trained on completions only.
        const header = readTorchLmHeader(run.artifact('stage3', 'model').dir);
        expect(header.stages.map((s) => s.name)).toEqual(['Stage I', 'Stage II', 'Stage III']);
        expect(header.stages[2]?.completionOnly).toBe(true);
        for (const s of header.stages) finite(s.finalLoss);
        expect(Number(run.metrics('stage3').target_tokens)).toBeGreaterThan(0);
        // Fig. 5a: the training curves of the three stages in one chart.
        const curve = run.json('stage3', 'chart', 'chart.json') as { data: { values: { stage: string }[] } };
        expect([...new Set(curve.data.values.map((v) => v.stage))]).toEqual(['Stage I', 'Stage II', 'Stage III']);
        // Fig. 5b: benchmark loss of each stage's ONNX checkpoint, in stage order, in one chart.
        const stages = run.metrics('eval_stages');
        expect(stages.checkpoints).toBe('Stage I > Stage II > Stage III');
        for (const st of ['Stage_I', 'Stage_II', 'Stage_III']) for (const b of ['agent', 'code', 'text', 'bfcl_pairs']) finite(stages[`${st}.${b}.nll`]);
        // Stage I's numbers are those of the same checkpoint scored on its own (eval_opt).
        expect(stages['Stage_I.agent.nll']).toBe(opt['agent.nll']);
        expect(stages['Stage_III.agent.nll']).toBe(stages['agent.nll']);
        const fig5b = run.json('eval_stages', 'chart', 'chart.json') as { data: { values: { checkpoint: string; benchmark: string }[] } };
        expect(fig5b.data.values).toHaveLength(12);
        expect([...new Set(fig5b.data.values.map((v) => v.checkpoint))]).toEqual(['Stage I', 'Stage II', 'Stage III']);

        // BFCL with no endpoint: succeeds, says why it scored nothing.
        const bfcl = run.metrics('bfcl_eval');
        expect(String(bfcl.skipped)).toMatch(/no endpoint configured: set params\.baseUrl/);

        // The report carries the optimum, the validation loss, the stage losses and the skip.
        const reportDir = join(run.dir, 'report');
        const md = readFileSync(join(reportDir, 'report.md'), 'utf8');
        expect(md).toContain('validation.loss');
        const reported = /- validation\.loss: ([-+0-9.e]+)/.exec(md);
        expect(Number(reported?.[1])).toBeCloseTo(validation, 3);
        expect(md).toContain('optimum.mix.shares.a');
        expect(md).toContain('Stage_III.bfcl_pairs.nll');
        expect(md).toContain('no endpoint configured');
        expect(readdirSync(reportDir).filter((f) => f.endsWith('.svg')).length).toBeGreaterThanOrEqual(3);
      } finally {
        run.close();
      }
    },
    SLOW,
  );
});
