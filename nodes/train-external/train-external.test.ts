import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/engine.js';
import { defaultRegistry } from '../../composition/registry.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph, tempDir, TOKENIZER, writeFiles } from '../_sdk/testing/graph.js';
import { loadTokenizer } from '../_sdk/text/tokenizer.js';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const DOCS = ['The king had three daughters.', 'get_weather(city="Paris")', 'Once upon a time.'];
const files = { 'd.jsonl': DOCS.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n') };
const NODE = JSON.stringify(process.execPath);

// A "training script": reads the manifest and the uint16 shard back, writes a model file and metrics.
const SCRIPT = `
const fs = require('fs'), path = require('path');
const m = JSON.parse(fs.readFileSync(process.env.FORGE_DATA_MANIFEST, 'utf8'));
const buf = fs.readFileSync(path.join(process.env.FORGE_DATA_DIR, m.shards[0].file));
const ids = Array.from(new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2));
fs.writeFileSync(path.join(process.env.FORGE_OUTPUT_DIR, 'ids.json'), JSON.stringify(ids));
fs.writeFileSync(path.join(process.env.FORGE_OUTPUT_DIR, 'metrics.json'), JSON.stringify({ final_loss: 1.25 }));
console.log('step 1 loss 2.5'); console.log('step 2 loss 1.25'); console.error('a warning');
`;

const doc = (params: Record<string, unknown>) =>
  graph(
    [
      { id: 'src', type: 'source.jsonl', params: { path: 'd.jsonl', idField: 'id' } },
      { id: 'ext', type: 'train.external', params: { tokenizer: TOKENIZER, ...params } },
    ],
    [['src.out', 'ext.train']],
  );

describe('train.external node', () => {
  it('writes token shards + manifest, runs the command, captures logs, exit status and outputs', async () => {
    const run = await runGraph(doc({ command: `${NODE} train.cjs` }), { files: { ...files, 'train.cjs': SCRIPT }, trust: true });
    try {
      expect(run.outcome('ext').error).toBeUndefined();
      const dir = run.artifact('ext', 'model').dir;
      const tok = loadTokenizer(TOKENIZER, '/');
      const expected = DOCS.flatMap((t) => [...tok.encode(t), 102]); // [SEP] ends each document
      expect(JSON.parse(readFileSync(join(dir, 'output/ids.json'), 'utf8'))).toEqual(expected);
      const manifest = JSON.parse(readFileSync(join(dir, 'data-manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({ format: 'forge-token-shards', dtype: 'uint16', eosId: 102, documents: 3, tokens: expected.length });
      expect(existsSync(join(dir, `data/${manifest.shards[0].file}`))).toBe(false); // keepShards off
      expect(readFileSync(join(dir, 'logs/stdout.log'), 'utf8')).toBe('step 1 loss 2.5\nstep 2 loss 1.25\n');
      expect(readFileSync(join(dir, 'logs/stderr.log'), 'utf8')).toBe('a warning\n');
      const m = run.metrics('ext');
      expect(m).toMatchObject({ exit_code: 0, documents: 3, tokens: expected.length, shards: 1, output_files: 2, final_loss: 1.25 });
      const logs = (run.engine.ws.db.db.prepare("SELECT logs FROM executions WHERE node_id = 'ext'").get() as { logs: string }).logs;
      expect(logs).toContain('step 2 loss 1.25');
    } finally {
      run.close();
    }
  });

  it('a failing command is a node error with its stderr; nothing is published', async () => {
    const run = await runGraph(doc({ command: `${NODE} -e "console.error('CUDA out of memory'); process.exit(3)"` }), { files, trust: true });
    try {
      const o = run.outcome('ext');
      expect(o).toMatchObject({ state: 'failed', outputs: [], location: { nodeId: 'ext', field: 'params.command' } });
      expect(o.error).toContain('exited with status 3');
      expect(o.error).toContain('CUDA out of memory');
      expect(run.stagingLeft()).toEqual([]);
    } finally {
      run.close();
    }
  });

  it('cancelling the run kills the command', async () => {
    const dir = tempDir();
    writeFiles(dir, files);
    const pidFile = join(dir, 'pid');
    const engine = Engine.open(dir, defaultRegistry());
    try {
      const controller = new AbortController();
      const cmd = `${NODE} -e "require('fs').writeFileSync(${JSON.stringify(pidFile).replaceAll('"', '\\"')}, String(process.pid)); setTimeout(() => {}, 60000)"`;
      const running = engine.run(doc({ command: cmd }), { baseDir: dir, trigger: 'test', signal: controller.signal, trust: true });
      const t0 = Date.now();
      while (!existsSync(pidFile) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 100));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(() => process.kill(pid, 0)).not.toThrow();
      controller.abort();
      const summary = await running;
      expect(summary.status).toBe('cancelled');
      expect(summary.nodes.find((n) => n.nodeId === 'ext')?.state).toBe('cancelled');
      // SIGTERM has been sent by the time the run reports; give the OS a moment to reap it.
      const alive = () => {
        try {
          process.kill(pid, 0);
          if (process.platform !== 'linux') return true;
          // A zombie (killed, not yet reaped) counts as gone.
          return !(
            readFileSync(`/proc/${pid}/status`, 'utf8')
              .split('\n')
              .find((l) => l.startsWith('State:')) ?? ''
          ).includes('zombie');
        } catch {
          return false;
        }
      };
      const t1 = Date.now();
      while (alive() && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(alive()).toBe(false);
    } finally {
      engine.close();
    }
  });
});
