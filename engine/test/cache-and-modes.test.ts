import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachedNodes, cleanupTemp, executedNodes, QUICKSTART, readDoc, runFile, setNodeParams, withEngine, writeDoc, executionsOf } from './helpers.js';

const ALL = ['api_docs', 'mix', 'prose', 'shuffle', 'split', 'substantial', 'write_train'];

afterEach(cleanupTemp);

describe('cached runs of the example graph', () => {
  it('runs end to end, then reruns entirely from cache', () =>
    withEngine(async (engine, project) => {
      const first = await runFile(engine, project);
      expect(first.status).toBe('succeeded');
      expect(executedNodes(engine, first.runId)).toEqual(ALL);
      expect(cachedNodes(engine, first.runId)).toEqual([]);

      const second = await runFile(engine, project);
      expect(second.status).toBe('succeeded');
      expect(executedNodes(engine, second.runId)).toEqual([]);
      expect(cachedNodes(engine, second.runId)).toEqual(ALL);
      // A cache hit points at the execution it reused.
      const reused = engine.ws.db.db.prepare('SELECT count(*) AS n FROM executions WHERE run_id = ? AND reused_execution_id IS NULL').get(second.runId) as { n: number };
      expect(reused.n).toBe(0);
    }));

  it('editing one param re-executes exactly that node and its descendants', () =>
    withEngine(async (engine, project) => {
      await runFile(engine, project);
      setNodeParams(project, 'substantial', { where: 'length(text) >= 300' });
      const run = await runFile(engine, project);
      expect(executedNodes(engine, run.runId)).toEqual(['mix', 'shuffle', 'split', 'substantial', 'write_train']);
      expect(cachedNodes(engine, run.runId)).toEqual(['api_docs', 'prose']);
    }));

  it('stops re-executing where a re-executed node reproduces its previous output', () =>
    withEngine(async (engine, project) => {
      await runFile(engine, project);
      // 120 and 200 characters reject the same single record in the bundled data.
      setNodeParams(project, 'substantial', { where: 'length(text) >= 200' });
      const run = await runFile(engine, project);
      expect(executedNodes(engine, run.runId)).toEqual(['substantial']);
      expect(cachedNodes(engine, run.runId)).toEqual(['api_docs', 'mix', 'prose', 'shuffle', 'split', 'write_train']);
    }));

  it('cosmetic edits (position, label, notes) never invalidate the cache', () =>
    withEngine(async (engine, project) => {
      await runFile(engine, project);
      const doc = readDoc(project);
      for (const n of doc.nodes) {
        n.position = { x: (n.position?.x ?? 0) + 37, y: 5 };
        n.label = `renamed ${n.id}`;
        n.notes = 'a note';
      }
      writeDoc(project, QUICKSTART, doc);
      const run = await runFile(engine, project);
      expect(executedNodes(engine, run.runId)).toEqual([]);
      expect(cachedNodes(engine, run.runId)).toEqual(ALL);
    }));

  it('changing an input file reruns only its readers and their descendants', () =>
    withEngine(async (engine, project) => {
      await runFile(engine, project);
      appendFileSync(
        join(project, 'resources/data/agent/torchhub_api.jsonl'),
        `${JSON.stringify({ api_name: 'x', description: 'A brand new API documentation record, long enough to pass the filter node: it loads a pretrained vision transformer from Torch Hub and returns logits.' })}\n`,
      );
      const run = await runFile(engine, project);
      expect(executedNodes(engine, run.runId)).toEqual(['api_docs', 'mix', 'shuffle', 'split', 'substantial', 'write_train']);
      expect(cachedNodes(engine, run.runId)).toEqual(['prose']);
    }));
});

describe('run modes', () => {
  it('--node runs one node, computing missing upstream, nothing downstream', () =>
    withEngine(async (engine, project) => {
      const first = await runFile(engine, project, QUICKSTART, { mode: 'node', target: 'shuffle' });
      expect(first.status).toBe('succeeded');
      expect(executedNodes(engine, first.runId)).toEqual(['api_docs', 'mix', 'prose', 'shuffle', 'substantial']);
      expect(executionsOf(engine, first.runId).map((e) => e.node_id)).not.toContain('split');

      const again = await runFile(engine, project, QUICKSTART, { mode: 'node', target: 'shuffle' });
      expect(executedNodes(engine, again.runId)).toEqual(['shuffle']);
      expect(cachedNodes(engine, again.runId)).toEqual(['api_docs', 'mix', 'prose', 'substantial']);
    }));

  it('--from runs the node and everything downstream, reusing the rest', () =>
    withEngine(async (engine, project) => {
      await runFile(engine, project);
      const run = await runFile(engine, project, QUICKSTART, { mode: 'from', target: 'shuffle' });
      expect(executedNodes(engine, run.runId)).toEqual(['shuffle', 'split', 'write_train']);
      expect(cachedNodes(engine, run.runId)).toEqual(['api_docs', 'mix', 'prose', 'substantial']);
      // Deterministic nodes re-executed produce the same artifacts as before.
      const outputs = engine.ws.db.db.prepare("SELECT count(DISTINCT o.artifact_hash) AS n FROM execution_outputs o JOIN executions e ON e.id = o.execution_id WHERE e.node_id = 'split'").get() as {
        n: number;
      };
      expect(outputs.n).toBe(2);
      expect(readdirSync(join(project, '.forge/staging'))).toEqual([]);
    }));

  it('rejects a target that is not in the graph', () =>
    withEngine(async (engine, project) => {
      await expect(runFile(engine, project, QUICKSTART, { mode: 'node', target: 'nope' })).rejects.toThrow(/no node "nope"/);
    }));
});
