import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry.js';
import { NODE_TYPES } from '../index.js';
import { cleanupTempDirs, closeExecutor, DATASETS, graph, runGraph } from '../_sdk/testing/graph.js';
import apiDocs from './index.js';
import { renderRecord } from './render.js';

const registry = new NodeRegistry(NODE_TYPES.some((t) => t.type === apiDocs.type) ? NODE_TYPES : [...NODE_TYPES, apiDocs]);
afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const REC = {
  domain: 'Video Classification',
  api_name: 'slow_r50',
  api_call: "torch.hub.load(repo_or_dir='facebookresearch/pytorchvideo', model='slow_r50', pretrained=True)",
  api_arguments: { pretrained: 'True' },
  example_code: ['import torch', "model = torch.hub.load('facebookresearch/pytorchvideo', 'slow_r50', pretrained=True)"],
  performance: { dataset: 'Kinetics 400', accuracy: { top_1: 74.58 } },
  notes: 'N/A',
  description: 'A 3D ResNet video classifier.',
};

describe('API doc rendering', () => {
  it('renders key/value lines, code as a block, skipping empty values', () => {
    expect(renderRecord(REC, { format: 'keyvalue', fields: [], exclude: [], titleField: 'api_name', skipEmpty: true })).toBe(
      [
        'api_name: slow_r50',
        'domain: Video Classification',
        "api_call: torch.hub.load(repo_or_dir='facebookresearch/pytorchvideo', model='slow_r50', pretrained=True)",
        'api_arguments: pretrained: True',
        'example_code:',
        '  import torch',
        "  model = torch.hub.load('facebookresearch/pytorchvideo', 'slow_r50', pretrained=True)",
        'performance: dataset: Kinetics 400; accuracy: {"top_1":74.58}',
        'description: A 3D ResNet video classifier.',
      ].join('\n'),
    );
  });

  it('renders Markdown with a heading and selected fields only', () => {
    expect(renderRecord(REC, { format: 'markdown', fields: ['api_name', 'description'], exclude: [], titleField: 'api_name', skipEmpty: true })).toBe(
      '# slow_r50\n\n**description**: A 3D ResNet video classifier.',
    );
  });
});

describe('source.api-docs node', () => {
  it('loads the Gorilla Torch Hub docs: one document per record, string fields as columns', async () => {
    const run = await runGraph(graph([{ id: 'docs', type: 'source.api-docs', params: { path: join(DATASETS, 'agent/torchhub_api.jsonl') } }]), { registry });
    try {
      expect(run.outcome('docs').error).toBeUndefined();
      const rows = await run.rows('docs');
      expect(rows).toHaveLength(94);
      expect(rows[0]).toMatchObject({ id: 'torchhub_api:1', source: 'torchhub_api', title: 'slow_r50', domain: 'Video Classification', framework: 'PyTorch', line: '1' });
      expect(String(rows[0]?.text)).toMatch(/^api_name: slow_r50\ndomain: Video Classification\n/);
      expect(String(rows[0]?.text)).toContain('example_code:\n  import torch\n');
      const meta = run.artifact('docs', 'out').manifest.meta;
      expect(meta.documents).toBe(94);
      expect(meta.tokenizer).toBe('builtin:words');
    } finally {
      run.close();
    }
  });

  it('a line that is not a JSON object fails at that line', async () => {
    const run = await runGraph(graph([{ id: 'docs', type: 'source.api-docs', params: { path: 'd.jsonl' } }]), { registry, files: { 'd.jsonl': '{"api_name": "a"}\n[1, 2]\n' } });
    try {
      expect(run.outcome('docs').location).toMatchObject({ nodeId: 'docs', file: 'd.jsonl', line: 2 });
    } finally {
      run.close();
    }
  });

  it('accepts a file holding one JSON array of records, numbered by position', async () => {
    const run = await runGraph(graph([{ id: 'docs', type: 'source.api-docs', params: { path: 'd.json' } }]), {
      registry,
      files: { 'd.json': '[\n  {"api_name": "a", "description": "first"},\n  {"api_name": "b", "description": "second"}\n]\n' },
    });
    try {
      expect(run.outcome('docs').error).toBeUndefined();
      const rows = await run.rows('docs');
      expect(rows.map((r) => [r.id, r.title])).toEqual([
        ['d:1', 'a'],
        ['d:2', 'b'],
      ]);
    } finally {
      run.close();
    }
  });

  it('a broken JSON array says what is expected instead of "Unexpected end"', async () => {
    const run = await runGraph(graph([{ id: 'docs', type: 'source.api-docs', params: { path: 'd.json' } }]), { registry, files: { 'd.json': '[{"api_name": "a"},\n' } });
    try {
      expect(run.outcome('docs').error).toMatch(/JSON array.*one JSON object per line/);
    } finally {
      run.close();
    }
  });
});
