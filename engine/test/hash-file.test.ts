// hashFile reads large files through two reused buffers: the hash must be that of the whole file,
// whatever the buffer boundaries, for files on either side of the one-read size.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFile } from '../util/hash.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-hash-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile', () => {
  it.each([
    ['empty', 0],
    ['small (one read)', 12_345],
    ['large, ending mid-buffer', 11 * 1024 * 1024 + 17],
    ['large, ending on a buffer boundary', 9 * 1024 * 1024],
  ])('gives the sha256 and size of the whole file: %s', async (_name, size) => {
    const data = randomBytes(size);
    const file = join(dir, `f-${size}`);
    writeFileSync(file, data);
    const expected = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    expect(await hashFile(file)).toEqual({ hash: expected, bytes: size });
  });
});
