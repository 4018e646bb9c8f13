import type { DuckDBConnection } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef, type RunContext } from '../../engine/sdk/types.js';
import { sqlIdent, sqlString } from '../../engine/sdk/sql.js';
import { round, tooltip, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';
import { columns, tempTable, type Cell } from '../_sdk/dataset/records.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';
import { orderKey } from '../_sdk/rng.js';
import { loadTokenizer, tokenizerFiles, WORDS, type TextTokenizer } from '../_sdk/text/tokenizer.js';
import { planMix, resolveShares, type MixPlan } from './mix.js';

export const PORTS = ['a', 'b', 'c', 'd'] as const;

const perPort = <T extends z.ZodType>(t: T) => z.object({ a: t.optional(), b: t.optional(), c: t.optional(), d: t.optional() }).strict();

const params = z.object({
  names: perPort(
    z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
  )
    .default({})
    .meta({ title: 'Names', description: 'Role of each input, e.g. { "a": "agent", "b": "general" }; used in metrics and the chart (default: the port letter)' }),
  shares: perPort(z.number().min(0).max(1)).default({}).meta({ title: 'Token shares', description: 'Target share of tokens per connected input, summing to 1, e.g. { "a": 0.3, "b": 0.7 }' }),
  agentShare: z.number().min(0).max(1).optional().meta({
    title: 'Agent share (input a)',
    description: 'One number for the two-role case and for sweeps: input a gets this share; the other inputs split the rest in proportion to their shares (equally when none are given)',
  }),
  totalTokens: z.number().int().positive().default(1_000_000).meta({ title: 'Target total tokens' }),
  policy: z.enum(['upsample', 'shrink']).default('upsample').meta({
    title: 'When a source is short',
    description: 'upsample: repeat it, up to Max epochs, then shrink the total; shrink: never repeat, shrink the total so every share still holds',
  }),
  maxEpochs: z.number().min(1).max(100).default(4).meta({ title: 'Max epochs (upsample)' }),
  tokenizer: z
    .string()
    .min(1)
    .default(WORDS)
    .meta({ title: 'Tokenizer', description: `tokenizer.json (or its folder) that counts tokens; ${WORDS} counts words and punctuation`, widget: 'file' }),
});

type Params = z.output<typeof params>;

/** Token counts per input artifact and tokenizer: a sweep re-mixes the same inputs many times. */
const countMemo = new Map<string, Counted>();

interface Counted {
  ords: bigint[];
  ids: string[];
  tokens: Int32Array;
}

async function countTokens(conn: DuckDBConnection, ref: ArtifactRef, tok: TextTokenizer, ctx: RunContext<Params>, port: string): Promise<Counted> {
  const key = `${ref.hash}:${tok.name}:${tok.sha256}`;
  const hit = countMemo.get(key);
  if (hit) return hit;
  const ords: bigint[] = [];
  const ids: string[] = [];
  const tokens: number[] = [];
  const total = ref.manifest.rows;
  const result = await conn.stream(`SELECT ${POS}, id, text FROM ${await positionedSql(conn, ref)} ORDER BY ${POS}`);
  for await (const rows of result.yieldRowsJs()) {
    throwIfAborted(ctx.signal);
    for (const r of rows) {
      ords.push(r[0] as bigint);
      ids.push(String(r[1]));
      tokens.push(r[2] === null || r[2] === undefined ? 0 : tok.count(String(r[2])));
    }
    ctx.progress(ids.length, total, `counting tokens of input ${port}`);
  }
  const value = { ords, ids, tokens: Int32Array.from(tokens) };
  if (countMemo.size >= 16) countMemo.delete(countMemo.keys().next().value as string);
  countMemo.set(key, value);
  return value;
}

export function compositionChart(plan: MixPlan): Record<string, unknown> {
  const values = plan.sources.map((s) => ({
    source: s.name,
    tokens: s.tokens,
    share: plan.totalTokens > 0 ? round(s.tokens / plan.totalTokens, 4) : 0,
    target_share: round(s.targetShare, 4),
    documents: s.documents,
    epochs: round(s.epochs, 3),
    label: `${s.name} ${plan.totalTokens > 0 ? ((100 * s.tokens) / plan.totalTokens).toFixed(1) : '0.0'}%`,
  }));
  return {
    title: { text: 'Mix composition (tokens)', subtitle: `${plan.totalTokens.toLocaleString('en-US')} tokens${plan.scale < 1 ? `, shrunk to ${(plan.scale * 100).toFixed(1)}% of the target` : ''}` },
    data: { values },
    encoding: {
      theta: { field: 'tokens', type: 'quantitative', stack: true },
      color: { field: 'source', type: 'nominal', title: 'source', sort: plan.sources.map((s) => s.name) },
      order: { field: 'source', sort: 'ascending' },
      tooltip: tooltip(
        ['source', 'nominal'],
        ['tokens', 'quantitative', ','],
        ['share', 'quantitative', '.1%'],
        ['target_share', 'quantitative', '.1%'],
        ['documents', 'quantitative'],
        ['epochs', 'quantitative'],
      ),
    },
    layer: [{ mark: { type: 'arc', outerRadius: 110, stroke: 'white' } }, { mark: { type: 'text', radius: 138, fontSize: 12 }, encoding: { text: { field: 'label', type: 'nominal' } } }],
    view: { stroke: null },
    width: 300,
    height: 300,
  };
}

function sharesFromFit(dir: string): Partial<Record<string, number>> {
  const raw = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  const out: Partial<Record<string, number>> = {};
  for (const [k, v] of Object.entries(raw)) {
    const m = /^optimum\.(?:.+\.)?shares\.([abcd])$/.exec(k);
    if (m && typeof v === 'number') out[m[1] as string] = v;
  }
  return out;
}

export default defineNode({
  type: 'transform.mixer',
  version: 1,
  category: 'Mixing',
  title: 'Mixer (token shares)',
  description:
    'Combines up to four datasets by target shares of tokens to a target total, counting tokens with a real tokenizer. A short source is upsampled up to an epoch cap (or never, with policy shrink), after which the whole mix shrinks so shares still hold; metrics say what happened. Deterministic from the graph seed. agentShare drives the two-role case with one number, for sweeps.',
  inputs: {
    a: { kind: 'dataset', title: 'input a (agent data)' },
    b: { kind: 'dataset', title: 'input b (general text)', optional: true },
    c: { kind: 'dataset', title: 'input c', optional: true },
    d: { kind: 'dataset', title: 'input d', optional: true },
    sharesFrom: { kind: 'metrics', title: 'shares from a fit (optional)', optional: true },
  },
  outputs: { out: { kind: 'dataset', title: 'mixed' }, metrics: { kind: 'metrics' }, chart: { kind: 'chart', title: 'composition' } },
  params,
  deterministic: true,
  worker: true,
  inputFiles: (p, baseDir) => tokenizerFiles(p.tokenizer, baseDir),
  async run(ctx) {
    const p = ctx.params;
    const connected = PORTS.filter((port) => ctx.optionalInput(port) !== undefined);
    // A fit's predicted optimum (fit.mixing-law: optimum.<node>.shares.<port>) replaces the share params.
    const fitRef = ctx.optionalInput('sharesFrom');
    const fromFit = fitRef ? sharesFromFit(fitRef.dir) : undefined;
    if (fromFit && Object.keys(fromFit).length === 0)
      throw new NodeError('the connected metrics hold no optimum.<node>.shares.<port> values (connect a fit.mixing-law output)', { field: 'inputs.sharesFrom' });
    if (fromFit)
      ctx.log(
        `shares from the fit: ${Object.entries(fromFit)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    const resolved = fromFit ? resolveShares(connected, fromFit, undefined) : resolveShares(connected, p.shares, p.agentShare);
    if ('error' in resolved) throw new NodeError(resolved.error, { field: resolved.field });
    const names = connected.map((port) => p.names[port] ?? port);
    const dupName = names.find((n, i) => names.indexOf(n) !== i);
    if (dupName) throw new NodeError(`two inputs are named "${dupName}"`, { field: 'names' });
    const tok = loadTokenizer(p.tokenizer, ctx.baseDir);
    const conn = await ctx.duckdb();

    const counted: Counted[] = [];
    for (const port of connected) counted.push(await countTokens(conn, ctx.input(port), tok, ctx, port));
    for (const [i, c] of counted.entries()) {
      if (c.ids.length === 0 && (resolved.shares[i] as number) > 0)
        throw new NodeError(`input ${connected[i]} (${names[i]}) is empty but has share ${resolved.shares[i]}`, { field: `inputs.${connected[i]}` });
    }
    const plan = planMix(
      counted.map((c, i) => ({ name: names[i] as string, ids: c.ids, tokens: c.tokens })),
      { shares: resolved.shares, totalTokens: p.totalTokens, policy: p.policy, maxEpochs: p.maxEpochs, seed: ctx.seed },
    );
    throwIfAborted(ctx.signal);

    // Ids stay as they are on first use; repeats become `<id>@e<epoch>`. Inputs whose ids collide
    // are told apart by their name.
    const seen = new Map<string, number>();
    let collide = false;
    counted.forEach((c, i) => {
      for (const id of c.ids) {
        const prev = seen.get(id);
        if (prev !== undefined && prev !== i) collide = true;
        seen.set(id, i);
      }
    });
    if (collide) ctx.log('some ids appear in more than one input; mixed ids are prefixed with the input name', 'warn');
    const picks: Cell[][] = plan.picks.map((pk) => {
      const c = counted[pk.source] as Counted;
      const base = c.ids[pk.doc] as string;
      const id = `${collide ? `${names[pk.source]}/` : ''}${base}${pk.epoch > 1 ? `@e${pk.epoch}` : ''}`;
      return [connected[pk.source] as string, String(c.ords[pk.doc]), id, names[pk.source] as string, pk.epoch, c.tokens[pk.doc] as number, orderKey(ctx.seed, 'mix', id)];
    });
    const sel = await tempTable(conn, columns({ port: 'VARCHAR', ord: 'BIGINT', new_id: 'VARCHAR', mix_source: 'VARCHAR', epoch: 'BIGINT', tokens: 'BIGINT', position: 'BIGINT' }), picks);

    const parts: string[] = [];
    for (const port of connected) {
      const rel = await positionedSql(conn, ctx.input(port));
      const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${rel}`)).getRowObjects().map((r) => String(r.column_name));
      const keep = cols.filter((c) => !['id', POS, 'mix_source', 'epoch', 'tokens', 'position'].includes(c)).map((c) => `t.${sqlIdent(c)}`);
      parts.push(
        `SELECT s.position, s.new_id AS id${keep.length ? `, ${keep.join(', ')}` : ''}, s.mix_source, s.epoch, s.tokens FROM ${sel} s JOIN ${rel} t ON s.ord = t.${POS} WHERE s.port = ${sqlString(port)}`,
      );
    }
    const out = ctx.output('out');
    const written = await writeDatasetFromQuery(conn, `SELECT * EXCLUDE (position) FROM (${parts.join(' UNION ALL BY NAME ')}) ORDER BY position, id`, out);
    if (written.rows !== plan.picks.length) throw new Error(`mixer wrote ${written.rows} rows for ${plan.picks.length} picks`);

    const m: Record<string, MetricValue> = {
      total_tokens: plan.totalTokens,
      target_total_tokens: Math.round(plan.targetTotal),
      requested_total_tokens: plan.requestedTotal,
      scale: round(plan.scale, 6),
      shrunk: plan.scale < 1 ? 1 : 0,
      limiting_source: plan.limitingSource ?? '',
      policy: p.policy,
      max_epochs: p.policy === 'shrink' ? 1 : p.maxEpochs,
      documents: plan.picks.length,
      tokenizer: tok.name,
    };
    if (p.agentShare !== undefined) m.agent_share = p.agentShare;
    for (const s of plan.sources) {
      m[`${s.name}.target_share`] = round(s.targetShare, 6);
      m[`${s.name}.share`] = plan.totalTokens > 0 ? round(s.tokens / plan.totalTokens, 6) : 0;
      m[`${s.name}.target_tokens`] = Math.round(s.targetTokens);
      m[`${s.name}.tokens`] = s.tokens;
      m[`${s.name}.documents`] = s.documents;
      m[`${s.name}.unique_documents`] = s.uniqueDocuments;
      m[`${s.name}.available_tokens`] = s.availableTokens;
      m[`${s.name}.available_documents`] = s.availableDocuments;
      m[`${s.name}.epochs`] = round(s.epochs, 4);
    }
    writeMetrics(ctx.output('metrics'), m);
    out.setMeta('tokens', plan.totalTokens);
    out.setMeta('tokenizer', tok.name);
    for (const s of plan.sources) out.setMeta(`tokens.${s.name}`, s.tokens);
    await writeChart(ctx.output('chart'), compositionChart(plan));
    const summary = plan.sources.map(
      (s) =>
        `${s.name} ${s.tokens} tokens (${plan.totalTokens > 0 ? ((100 * s.tokens) / plan.totalTokens).toFixed(2) : 0}% vs ${(100 * s.targetShare).toFixed(2)}% target, ${s.epochs.toFixed(2)} epochs)`,
    );
    ctx.log(`mixed ${plan.totalTokens} tokens in ${plan.picks.length} documents: ${summary.join('; ')}`);
    if (plan.scale < 1) {
      ctx.log(
        `${plan.limitingSource} is too small for ${p.totalTokens} tokens at its share${p.policy === 'upsample' ? ` even at ${p.maxEpochs} epochs` : ' without repeating'}: the total shrank to ${Math.round(plan.targetTotal)} (${(plan.scale * 100).toFixed(1)}%)`,
        'warn',
      );
    }
  },
  module: import.meta.url,
});
