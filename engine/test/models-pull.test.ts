import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullModel } from '../cli/models-command.js';
import { cleanupTempDirs, tempDir } from '../../nodes/_sdk/testing/temp.js';

// A local server with the hub's layout: /api/models/<repo>/revision/<rev> lists, /<repo>/resolve/<rev>/<file> serves.
const FILES: Record<string, Buffer> = {
  'onnx/model.onnx': Buffer.alloc(300_000, 7),
  'tokenizer.json': Buffer.from('{"model":{"type":"WordPiece"}}'),
  'config.json': Buffer.from('{"hidden_size":4}'),
  'README.md': Buffer.from('not downloaded'),
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let corrupt = false;
let served: string[] = [];
let server: Server;
let endpoint = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/models/acme/tiny-encoder/revision/main') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ siblings: Object.entries(FILES).map(([f, b]) => ({ rfilename: f, size: b.length, ...(f.endsWith('.onnx') ? { lfs: { sha256: sha(b), size: b.length } } : {}) })) }));
      return;
    }
    const m = /^\/acme\/tiny-encoder\/resolve\/main\/(.+)$/.exec(url.pathname);
    const body = m ? FILES[m[1]!] : undefined;
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    served.push(m![1]!);
    const out = corrupt && m![1] === 'onnx/model.onnx' ? Buffer.alloc(body.length, 8) : body;
    res.setHeader('content-length', String(out.length));
    res.end(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  cleanupTempDirs();
});

describe('forge models pull', () => {
  it('downloads the ONNX export and tokenizer files with checksums and progress, then reuses the cache', async () => {
    const cacheDir = tempDir('forge-models-');
    const lines: string[] = [];
    const r = await pullModel('acme/tiny-encoder', { endpoint, cacheDir, progress: (l) => lines.push(l) });
    expect(r.dir).toBe(join(cacheDir, 'acme', 'tiny-encoder', 'main'));
    expect(r.files.map((f) => f.file).sort()).toEqual(['config.json', 'onnx/model.onnx', 'tokenizer.json']);
    expect(readFileSync(join(r.dir, 'onnx/model.onnx')).equals(FILES['onnx/model.onnx']!)).toBe(true);
    expect(r.files.find((f) => f.file === 'onnx/model.onnx')).toMatchObject({ verified: true, sha256: sha(FILES['onnx/model.onnx']!) });
    expect(lines.some((l) => /onnx\/model\.onnx \[#+\.*\] +100%/.test(l))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(r.dir, 'forge-model.json'), 'utf8')) as { files: { file: string; sha256: string }[] };
    expect(manifest.files.find((f) => f.file === 'tokenizer.json')?.sha256).toBe(sha(FILES['tokenizer.json']!));

    served = [];
    await pullModel('acme/tiny-encoder', { endpoint, cacheDir });
    expect(served).not.toContain('onnx/model.onnx');
  });

  it('rejects a download whose checksum does not match, leaving no file behind', async () => {
    const cacheDir = tempDir('forge-models-');
    corrupt = true;
    try {
      await expect(pullModel('acme/tiny-encoder', { endpoint, cacheDir })).rejects.toThrow(/sha256 .* does not match/);
      expect(existsSync(join(cacheDir, 'acme', 'tiny-encoder', 'main', 'onnx', 'model.onnx'))).toBe(false);
    } finally {
      corrupt = false;
    }
  });

  it('fails with the URL and HTTP status for an unknown repository', async () => {
    await expect(pullModel('acme/other', { endpoint, cacheDir: tempDir('forge-models-') })).rejects.toThrow(/HTTP 404/);
  });
});
