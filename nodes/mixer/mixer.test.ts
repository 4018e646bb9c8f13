import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph, TOKENIZER, withGraphRun } from '../_sdk/testing/graph.js';
import { mulberry32 } from '../_sdk/rng.js';
import { planMix, resolveShares, type MixSource } from './mix.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

function source(name: string, n: number, seed: number, min = 10, max = 300): MixSource {
  const rand = mulberry32(seed);
  return { name, ids: Array.from({ length: n }, (_, i) => `${name}${i}`), tokens: Int32Array.from({ length: n }, () => min + Math.floor(rand() * (max - min))) };
}

describe('planMix', () => {
  it('hits token shares within 1% of their targets', () => {
    const sources = [source('agent', 2000, 1), source('general', 3000, 2), source('code', 500, 3)];
    for (const shares of [
      [0.3, 0.6, 0.1],
      [0.05, 0.9, 0.05],
      [0.5, 0.25, 0.25],
    ]) {
      const plan = planMix(sources, { shares, totalTokens: 200_000, policy: 'upsample', maxEpochs: 4, seed: 0 });
      expect(Math.abs(plan.totalTokens - 200_000) / 200_000).toBeLessThan(0.01);
      plan.sources.forEach((s, i) => {
        expect(Math.abs(s.tokens / plan.totalTokens - (shares[i] as number)) / (shares[i] as number)).toBeLessThan(0.01);
      });
      expect(plan.scale).toBe(1);
    }
  });

  it('upsamples a short source by whole epochs, then shrinks the total at the epoch cap', () => {
    const small = { name: 'small', ids: ['s0', 's1', 's2', 's3'], tokens: [100, 200, 300, 400] };
    const big = source('big', 1000, 5);
    const two = planMix([small, big], { shares: [0.5, 0.5], totalTokens: 4000, policy: 'upsample', maxEpochs: 4, seed: 0 });
    expect(two.sources[0]).toMatchObject({ tokens: 2000, documents: 8, uniqueDocuments: 4, epochs: 2 });
    expect(two.picks.filter((p) => p.source === 0).map((p) => p.epoch)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);

    const capped = planMix([small, big], { shares: [0.5, 0.5], totalTokens: 4000, policy: 'upsample', maxEpochs: 1.5, seed: 0 });
    expect(capped.scale).toBeCloseTo(0.75, 12); // 1.5 epochs × 1000 tokens of 2000 wanted
    expect(capped.limitingSource).toBe('small');
    expect(capped.targetTotal).toBeCloseTo(3000, 9);
    expect(capped.sources[0]?.tokens).toBe(1500);

    const shrunk = planMix([small, big], { shares: [0.5, 0.5], totalTokens: 4000, policy: 'shrink', maxEpochs: 4, seed: 0 });
    expect(shrunk.scale).toBeCloseTo(0.5, 12);
    expect(shrunk.sources[0]).toMatchObject({ tokens: 1000, epochs: 1 });
    expect(Math.abs((shrunk.sources[1]?.tokens ?? 0) - 1000)).toBeLessThan(10);
  });

  it('is deterministic given the seed and changes with it', () => {
    const sources = [source('a', 500, 1), source('b', 500, 2)];
    const opts = { shares: [0.4, 0.6], totalTokens: 30_000, policy: 'upsample' as const, maxEpochs: 4 };
    const one = planMix(sources, { ...opts, seed: 1 });
    expect(planMix(sources, { ...opts, seed: 1 }).picks).toEqual(one.picks);
    expect(planMix(sources, { ...opts, seed: 2 }).picks).not.toEqual(one.picks);
  });
});

describe('resolveShares', () => {
  it('derives all shares from agentShare', () => {
    expect(resolveShares(['a', 'b'], {}, 0.3)).toEqual({ shares: [0.3, 0.7] });
    const r = resolveShares(['a', 'b', 'c'], { b: 2, c: 1 }, 0.4);
    expect('shares' in r && r.shares.map((x) => +x.toFixed(6))).toEqual([0.4, 0.4, 0.2]);
  });

  it('rejects shares that do not sum to 1, missing and stray shares', () => {
    expect(resolveShares(['a', 'b'], { a: 0.3, b: 0.6 }, undefined)).toEqual({ error: 'shares sum to 0.9, not 1 (a: 0.3, b: 0.6)', field: 'shares' });
    expect(resolveShares(['a', 'b'], { a: 1 }, undefined)).toMatchObject({ field: 'shares.b' });
    expect(resolveShares(['a'], { a: 1, c: 0 }, undefined)).toMatchObject({ field: 'shares.c' });
    expect(resolveShares(['a'], {}, 0.5)).toMatchObject({ field: 'agentShare' });
  });
});

const BFCL = join(DATASETS, 'agent/bfcl/BFCL_v4_simple_python.json');
const PROSE = join(DATASETS, 'prose/grimms-fairy-tales.txt');

function mixGraph(mix: Record<string, unknown>) {
  return graph(
    [
      { id: 'agent', type: 'source.bfcl', params: { path: BFCL } },
      { id: 'prose', type: 'source.text-folder', params: { pattern: PROSE, unit: 'paragraph', minChars: 50 } },
      { id: 'mix', type: 'transform.mixer', params: mix },
    ],
    [
      ['agent.out', 'mix.a'],
      ['prose.out', 'mix.b'],
    ],
    7,
  );
}

describe('transform.mixer node', () => {
  it('mixes real agent data and prose by one agentShare with a real tokenizer: shares within 1%, metrics and chart', async () => {
    const run = await runGraph(mixGraph({ names: { a: 'agent', b: 'general' }, agentShare: 0.3, totalTokens: 60_000, tokenizer: TOKENIZER }));
    try {
      expect(run.outcome('mix').error).toBeUndefined();
      const m = run.metrics('mix');
      expect(Math.abs(Number(m['agent.share']) - 0.3) / 0.3).toBeLessThan(0.01);
      expect(Math.abs(Number(m['general.share']) - 0.7) / 0.7).toBeLessThan(0.01);
      expect(Math.abs(Number(m.total_tokens) - 60_000) / 60_000).toBeLessThan(0.01);
      expect(m).toMatchObject({ shrunk: 0, agent_share: 0.3, policy: 'upsample', 'agent.target_share': 0.3 });
      const rows = await run.rows('mix');
      expect(rows.reduce((a, r) => a + Number(r.tokens), 0)).toBe(m.total_tokens);
      expect(rows.filter((r) => r.mix_source === 'agent').reduce((a, r) => a + Number(r.tokens), 0)).toBe(m['agent.tokens']);
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      // BFCL columns survive for agent rows; prose rows have them as null.
      expect(rows.find((r) => r.mix_source === 'agent')?.category).toBe('simple_python');
      const chart = run.json('mix', 'chart', 'chart.json') as { $schema: string; data: { values: { source: string; tokens: number }[] } };
      expect(chart.$schema).toContain('vega-lite/v6');
      expect(chart.data.values.map((v) => v.source)).toEqual(['agent', 'general']);
      expect(existsSync(join(run.artifact('mix', 'chart').dir, 'chart.svg'))).toBe(true);
      expect(readFileSync(join(run.artifact('mix', 'chart').dir, 'chart.svg'), 'utf8')).toMatch(/^<svg/);
    } finally {
      run.close();
    }
  });

  it('is swept by its one agentShare param: one cached execution per value, each on target', async () => {
    const doc = mixGraph({ names: { a: 'agent', b: 'general' }, agentShare: 0.5, totalTokens: 30_000 });
    const mix = doc.nodes.find((n) => n.id === 'mix');
    if (mix) mix.sweep = { param: 'agentShare', values: [0.1, 0.4, 0.7] };
    const run = await runGraph(doc);
    try {
      const variants = run.summary.nodes.filter((n) => n.baseNodeId === 'mix');
      expect(variants.map((v) => [v.state, v.variant['mix.agentShare']])).toEqual([
        ['executed', 0.1],
        ['executed', 0.4],
        ['executed', 0.7],
      ]);
      for (const v of variants) {
        const m = run.metrics(v.nodeId);
        const target = Number(v.variant['mix.agentShare']);
        expect(Math.abs(Number(m['agent.share']) - target) / target).toBeLessThan(0.01);
      }
      const states = await withGraphRun(doc, { dir: run.dir }, (again) => again.summary.nodes.filter((n) => n.baseNodeId === 'mix').map((n) => n.state));
      expect(states).toEqual(['cached', 'cached', 'cached']);
    } finally {
      run.close();
    }
  });

  it('upsamples the short agent source to the epoch cap, then shrinks the total and says so', async () => {
    const run = await runGraph(mixGraph({ names: { a: 'agent', b: 'general' }, agentShare: 0.5, totalTokens: 400_000, maxEpochs: 2 }));
    try {
      const m = run.metrics('mix');
      // 400 BFCL items hold ~80k words: 200k tokens would need more than 2 epochs, so the total shrinks.
      expect(m.shrunk).toBe(1);
      expect(m.limiting_source).toBe('agent');
      expect(Number(m['agent.epochs'])).toBeCloseTo(2, 3);
      expect(m['agent.tokens']).toBe(2 * Number(m['agent.available_tokens']));
      expect(Number(m.total_tokens)).toBeLessThan(400_000);
      expect(Math.abs(Number(m['agent.share']) - 0.5)).toBeLessThan(0.005);
      const rows = await run.rows('mix');
      expect(rows.some((r) => String(r.id).endsWith('@e2'))).toBe(true);
    } finally {
      run.close();
    }
  });

  it('bad shares and an unloadable tokenizer are node errors; nothing is published', async () => {
    const bad = await runGraph(mixGraph({ shares: { a: 0.3, b: 0.6 } }));
    try {
      expect(bad.outcome('mix')).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'mix', field: 'shares' } });
      expect(bad.outcome('mix').error).toContain('shares sum to 0.9, not 1');
      expect(bad.stagingLeft()).toEqual([]);
    } finally {
      bad.close();
    }
    // Same project folder: the sources come from cache.
    const tok = await runGraph(mixGraph({ agentShare: 0.3, tokenizer: 'models/missing/tokenizer.json' }), { dir: bad.dir });
    try {
      expect(tok.outcome('mix')).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'mix', field: 'params.tokenizer' } });
    } finally {
      tok.close();
    }
    const notTok = await runGraph(mixGraph({ agentShare: 0.3, tokenizer: 'tok.json' }), { dir: bad.dir, files: { 'tok.json': '{"version": "1.0"}' } });
    try {
      expect(notTok.outcome('mix')).toMatchObject({ state: 'failed', outputs: [], location: { file: 'tok.json', field: 'model' } });
      expect(notTok.outcome('mix').error).toContain('not a Hugging Face tokenizer.json');
    } finally {
      notTok.close();
    }
  });
});
