import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { CancelledError, NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { writeMetrics, type MetricValue } from '../_sdk/report.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';
import { loadTokenizer, tokenizerFiles, WORDS, type TextTokenizer } from '../_sdk/text/tokenizer.js';

const params = z.object({
  command: z.string().min(1).meta({
    title: 'Command',
    description:
      'Shell command that trains on the shards, e.g. python train.py --data "$FORGE_DATA_DIR" --out "$FORGE_OUTPUT_DIR". Environment: FORGE_DATA_DIR, FORGE_DATA_MANIFEST, FORGE_OUTPUT_DIR, FORGE_TOKENIZER, FORGE_VOCAB_SIZE, FORGE_EOS_ID, FORGE_DTYPE, FORGE_SEED',
    widget: 'code',
    language: 'shell',
  }),
  tokenizer: z.string().min(1).meta({ title: 'Tokenizer', description: 'tokenizer.json (or its folder) used to write the token shards', widget: 'file' }),
  dtype: z.enum(['auto', 'uint16', 'uint32']).default('auto').meta({ title: 'Token dtype', description: 'auto: uint16 when every id fits, else uint32' }),
  eosToken: z.string().min(1).default('auto').meta({ title: 'End-of-document token', description: 'auto: the first of </s>, <|endoftext|>, <eos>, [SEP] the vocabulary has; else the id vocabSize' }),
  shardTokens: z.number().int().positive().default(50_000_000).meta({ title: 'Tokens per shard' }),
  keepShards: z.boolean().default(false).meta({ title: 'Keep shards in the artifact', description: 'Off: only the data manifest is kept (the shards are rebuilt from the dataset)' }),
  workdir: z.string().optional().meta({ title: 'Working folder', description: 'Where the command runs; defaults to the graph folder', widget: 'folder' }),
  env: z.record(z.string(), z.string()).default({}).meta({ title: 'Extra environment variables' }),
  timeoutSec: z.number().min(0).default(0).meta({ title: 'Timeout (s)', description: '0: none' }),
});

const EOS_CANDIDATES = ['</s>', '<|endoftext|>', '<eos>', '[SEP]'];
const MAX_LOG_LINES = 400;

function eosId(tok: TextTokenizer, choice: string): number {
  if (choice !== 'auto') {
    const id = tok.tokenToId(choice);
    if (id === undefined) throw new NodeError(`the tokenizer has no token ${JSON.stringify(choice)}`, { field: 'params.eosToken' });
    return id;
  }
  for (const t of EOS_CANDIDATES) {
    const id = tok.tokenToId(t);
    if (id !== undefined) return id;
  }
  return tok.vocabSize;
}

function listFiles(dir: string): { path: string; bytes: number }[] {
  const out: { path: string; bytes: number }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const st = statSync(abs);
      if (st.isDirectory()) walk(abs);
      else out.push({ path: relative(dir, abs).split(sep).join('/'), bytes: st.size });
    }
  };
  walk(dir);
  return out;
}

/** Kills the command's whole process group: first politely, then for good. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch {
    // already gone
  }
}

export default defineNode({
  type: 'train.external',
  version: 1,
  category: 'Training',
  title: 'External trainer',
  description:
    'Writes the dataset as tokenized shards (flat little-endian uint16/uint32 ids, documents ended by an EOS id) plus a manifest, runs a user-given command on them (e.g. a real pre-training script), and captures its logs, exit status and output files as a model artifact. Cancelling kills the command.',
  inputs: { train: { kind: 'dataset', title: 'training text' } },
  outputs: { model: { kind: 'model', title: 'command output' }, metrics: { kind: 'metrics' } },
  params,
  // User code: same inputs may not give the same bytes, so never reused across seeds silently.
  deterministic: false,
  // The command and its environment (PATH, PYTHONPATH...) decide what runs: both need consent.
  codeParams: ['command', 'env'],
  inputFiles: (p, baseDir) => tokenizerFiles(p.tokenizer, baseDir),
  async run(ctx) {
    const p = ctx.params;
    if (p.tokenizer === WORDS) throw new NodeError(`${WORDS} has no token ids; choose a tokenizer.json`, { field: 'params.tokenizer' });
    const tok = loadTokenizer(p.tokenizer, ctx.baseDir);
    const eos = eosId(tok, p.eosToken);
    const maxId = Math.max(tok.vocabSize, eos + 1);
    const dtype = p.dtype === 'auto' ? (maxId <= 0x10000 ? 'uint16' : 'uint32') : p.dtype;
    if (dtype === 'uint16' && maxId > 0x10000) throw new NodeError(`ids up to ${maxId - 1} do not fit in uint16`, { field: 'params.dtype' });
    const out = ctx.output('model');
    const dataDir = join(out.dir, 'data');
    const outputDir = join(out.dir, 'output');
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(outputDir, { recursive: true });
    copyFileSync(tok.files[0] as string, join(dataDir, 'tokenizer.json'));

    // 1. Token shards.
    const bytesPer = dtype === 'uint16' ? 2 : 4;
    const shards: { file: string; tokens: number; documents: number }[] = [];
    let buf = dtype === 'uint16' ? new Uint16Array(1 << 20) : new Uint32Array(1 << 20);
    let fill = 0;
    let shardTokens = 0;
    let shardDocs = 0;
    let stream: WriteStream | null = null;
    let documents = 0;
    let tokens = 0;
    const flush = async () => {
      if (fill === 0 || !stream) return;
      const s = stream;
      const chunk = Buffer.from(buf.buffer, 0, fill * bytesPer);
      await new Promise<void>((res, rej) => s.write(Buffer.from(chunk), (e) => (e ? rej(e) : res())));
      fill = 0;
    };
    const closeShard = async () => {
      await flush();
      if (stream) {
        const s = stream;
        await new Promise<void>((res) => s.end(res));
        stream = null;
        (shards[shards.length - 1] as { tokens: number; documents: number }).tokens = shardTokens;
        (shards[shards.length - 1] as { tokens: number; documents: number }).documents = shardDocs;
      }
    };
    const conn = await ctx.duckdb();
    const ref = ctx.input('train');
    const result = await conn.stream(`SELECT text FROM ${await positionedSql(conn, ref)} ORDER BY ${POS}`);
    for await (const rows of result.yieldRowsJs()) {
      throwIfAborted(ctx.signal);
      for (const r of rows) {
        if (r[0] === null || r[0] === undefined) continue;
        const ids = tok.encode(String(r[0]));
        ids.push(eos);
        if (!stream || shardTokens >= p.shardTokens) {
          await closeShard();
          const file = `shard-${String(shards.length).padStart(5, '0')}.bin`;
          shards.push({ file, tokens: 0, documents: 0 });
          stream = createWriteStream(join(dataDir, file));
          shardTokens = 0;
          shardDocs = 0;
        }
        if (fill + ids.length > buf.length) {
          await flush();
          if (ids.length > buf.length) buf = dtype === 'uint16' ? new Uint16Array(ids.length) : new Uint32Array(ids.length);
        }
        buf.set(ids, fill);
        fill += ids.length;
        shardTokens += ids.length;
        shardDocs++;
        documents++;
        tokens += ids.length;
      }
      ctx.progress(documents, ref.manifest.rows, 'writing token shards');
    }
    await closeShard();
    if (documents === 0) throw new NodeError('the training dataset has no text', { field: 'inputs.train' });
    const manifest = {
      format: 'forge-token-shards',
      version: 1,
      dtype,
      byteOrder: 'little',
      eosId: eos,
      vocabSize: tok.vocabSize,
      tokenizer: 'tokenizer.json',
      tokenizerSha256: tok.sha256,
      documents,
      tokens,
      seed: ctx.seed,
      shards,
    };
    writeFileSync(join(dataDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(out.file('data-manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    ctx.log(`wrote ${tokens} tokens (${documents} documents, ${dtype}, EOS ${eos}) in ${shards.length} shard(s)`);

    // 2. The command.
    const cwd = p.workdir ? (isAbsolute(p.workdir) ? p.workdir : resolve(ctx.baseDir, p.workdir)) : ctx.baseDir;
    const env = {
      ...process.env,
      ...p.env,
      FORGE_DATA_DIR: dataDir,
      FORGE_DATA_MANIFEST: join(dataDir, 'manifest.json'),
      FORGE_OUTPUT_DIR: outputDir,
      FORGE_TOKENIZER: join(dataDir, 'tokenizer.json'),
      FORGE_VOCAB_SIZE: String(tok.vocabSize),
      FORGE_EOS_ID: String(eos),
      FORGE_DTYPE: dtype,
      FORGE_SEED: String(ctx.seed),
    };
    const logsDir = join(out.dir, 'logs');
    mkdirSync(logsDir, { recursive: true });
    const stdoutFile = createWriteStream(join(logsDir, 'stdout.log'));
    const stderrFile = createWriteStream(join(logsDir, 'stderr.log'));
    let forwarded = 0;
    const stderrTail: string[] = [];
    const forward = (level: 'info' | 'warn') => {
      let partial = '';
      return (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (level === 'warn') {
            stderrTail.push(line);
            if (stderrTail.length > 20) stderrTail.shift();
          }
          if (forwarded < MAX_LOG_LINES) ctx.log(line, level);
          else if (forwarded === MAX_LOG_LINES) ctx.log(`… more output in logs/stdout.log and logs/stderr.log`, 'warn');
          forwarded++;
        }
      };
    };
    const t0 = performance.now();
    let timedOut = false;
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
      const child = spawn(p.command, { cwd, env, shell: true, detached: process.platform !== 'win32', stdio: ['ignore', 'pipe', 'pipe'] });
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 3000);
      };
      const onAbort = () => stop();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const timeout = p.timeoutSec > 0 ? setTimeout(() => ((timedOut = true), stop()), p.timeoutSec * 1000) : undefined;
      child.stdout.on('data', (c: Buffer) => stdoutFile.write(c));
      child.stderr.on('data', (c: Buffer) => stderrFile.write(c));
      child.stdout.on('data', forward('info'));
      child.stderr.on('data', forward('warn'));
      child.on('error', (error) => done({ code: null, signal: null, error }));
      child.on('close', (code, signal) => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (timeout) clearTimeout(timeout);
        if (killTimer) clearTimeout(killTimer);
        // Anything the command left running in its group goes with it.
        if (process.platform !== 'win32') killGroup(child.pid, 'SIGKILL');
        done({ code, signal });
      });
    });
    await Promise.all([new Promise((r) => stdoutFile.end(r)), new Promise((r) => stderrFile.end(r))]);
    const seconds = (performance.now() - t0) / 1000;
    if (ctx.signal.aborted) throw new CancelledError();
    if (exit.error) throw new NodeError(`the command could not start: ${exit.error.message}`, { field: 'params.command' });
    if (timedOut) throw new NodeError(`the command ran past the ${p.timeoutSec} s timeout and was stopped`, { field: 'params.timeoutSec' });
    if (exit.code !== 0) {
      const tail = stderrTail
        .filter((l) => l.trim())
        .slice(-5)
        .join('\n');
      throw new NodeError(`the command ${exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`}${tail ? `:\n${tail}` : ''}`, { field: 'params.command' });
    }

    // 3. What it produced.
    if (!p.keepShards) for (const s of shards) rmSync(join(dataDir, s.file), { force: true });
    const files = listFiles(outputDir);
    const run = { command: p.command, cwd: relative(ctx.baseDir, cwd).split(sep).join('/') || '.', exitCode: exit.code, seconds: Math.round(seconds * 1000) / 1000, outputFiles: files };
    writeFileSync(out.file('run.json'), `${JSON.stringify(run, null, 2)}\n`);
    out.setMeta('exit_code', 0);
    out.setMeta('output_files', files.length);
    out.setMeta('training_tokens', tokens);
    const m: Record<string, MetricValue> = {
      exit_code: 0,
      seconds: run.seconds,
      documents,
      tokens,
      shards: shards.length,
      output_files: files.length,
      output_bytes: files.reduce((a, f) => a + f.bytes, 0),
    };
    // A metrics.json the command writes is merged in (numbers and strings only).
    try {
      const own = JSON.parse(readFileSync(join(outputDir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
      for (const [k, v] of Object.entries(own)) if ((typeof v === 'number' || typeof v === 'string') && !(k in m)) m[k] = v;
    } catch {
      // none, or not JSON: the file is still in the artifact
    }
    writeMetrics(ctx.output('metrics'), m);
    ctx.log(`command finished in ${run.seconds} s with ${files.length} output file(s)`);
  },
  module: import.meta.url,
});
