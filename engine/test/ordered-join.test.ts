// Part files joined in index order while later parts are still made (engine/sdk/ordered-join.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinInOrder } from '../sdk/ordered-join.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'forge-join-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tick = () => new Promise((r) => setTimeout(r, 20));
const part = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('joinInOrder', () => {
  it('joins parts finished out of order in index order, hashed, each removed once joined', async () => {
    const out = join(dir, 'joined');
    const joined = await joinInOrder(out);
    const texts = ['zero\n', 'one\n', 'two two\n', ''];
    joined.ready(2, part('p2', texts[2] as string));
    joined.ready(1, part('p1', texts[1] as string));
    await tick();
    // Nothing is appended before part 0 is there, and the parts after it wait on disk.
    expect(readFileSync(out, 'utf8')).toBe('');
    expect(existsSync(join(dir, 'p1'))).toBe(true);
    joined.ready(0, part('p0', texts[0] as string));
    // Joined before the last part is there.
    await expect.poll(() => ['p0', 'p1', 'p2'].some((p) => existsSync(join(dir, p))), { timeout: 60_000 }).toBe(false);
    expect(readFileSync(out, 'utf8')).toBe(texts.slice(0, 3).join(''));
    joined.ready(3, part('p3', texts[3] as string));
    const result = await joined.finish(4);
    const expected = Buffer.from(texts.join(''));
    expect(readFileSync(out)).toEqual(expected);
    expect(result).toEqual({ hash: `sha256:${createHash('sha256').update(expected).digest('hex')}`, bytes: expected.length });
  });

  it('fails the finish when a part never came', async () => {
    const joined = await joinInOrder(join(dir, 'joined'));
    joined.ready(1, part('p1', 'x'));
    await expect(joined.finish(2)).rejects.toThrow('joined 0 of 2 parts');
    await joined.close();
  });
});
