import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemp, REPO, tempProject } from './helpers.js';

afterAll(cleanupTemp);

// Loaded after the CLI exits: every CommonJS module the process required (the ML libraries are CommonJS).
const PROBE = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const heavy = Object.keys(require.cache).filter((k) => /node_modules\\/(onnxruntime-node|usearch|@huggingface\\/tokenizers|umap-js|protobufjs)\\//.test(k));
  process.stderr.write('LOADED ' + JSON.stringify(heavy.map((k) => k.replace(/^.*node_modules\\//, ''))) + '\\n');
});
`;

function loadedBy(args: string[], workspace: string): { code: number | null; loaded: string[] } {
  const probe = join(mkdtempSync(join(tmpdir(), 'forge-probe-')), 'probe.mjs');
  writeFileSync(probe, PROBE);
  const r = spawnSync(process.execPath, ['--import', probe, join(REPO, 'bin/forge.cjs'), ...args, '-w', workspace], { cwd: workspace, encoding: 'utf8', timeout: 120_000 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no probe output; stderr: ${r.stderr}`);
  return { code: r.status, loaded: JSON.parse(line.slice('LOADED '.length)) as string[] };
}

describe('CLI start-up loads node code only when a command needs node types', () => {
  const project = tempProject();

  it('forge --help and forge runs load no ML library', () => {
    // `forge runs` reads an existing workspace only (it refuses a folder without .forge).
    mkdirSync(join(project, '.forge'), { recursive: true });
    for (const args of [['--help'], ['runs']]) {
      const r = loadedBy(args, project);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.loaded, args.join(' ')).toEqual([]);
    }
  });

  it('forge nodes does load them (the probe sees real loads)', () => {
    const r = loadedBy(['nodes', '--json'], project);
    expect(r.code).toBe(0);
    expect(r.loaded.some((m) => m.startsWith('onnxruntime-node/'))).toBe(true);
  });
});
