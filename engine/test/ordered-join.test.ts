// Parts joined in index order while they are made (engine/sdk/ordered-join.ts): files appended,
// streamed parts buffered behind the current one with their producers paused past the cap.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinInOrder, type Flow } from '../sdk/ordered-join.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'forge-join-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A producer that records whether it is paused. */
function producer(): Flow & { paused: boolean; pauses: number } {
  const f = {
    paused: false,
    pauses: 0,
    pause() {
      f.paused = true;
      f.pauses++;
    },
    resume() {
      f.paused = false;
    },
  };
  return f;
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('joinInOrder', () => {
  it('joins files and streamed parts finished out of order into one file in index order, hashed', async () => {
    const out = join(dir, 'joined');
    const joined = await joinInOrder(out);
    const texts = ['zero\n', 'one\n', 'two two\n', 'three\n'];
    const flows = [producer(), producer()];
    // Part 3 streams first, then 1 (a file), then 2 streams, then 0 (a file) arrives last.
    const s3 = joined.stream(3, flows[0] as Flow);
    s3.push(Buffer.from('thr'));
    s3.push(Buffer.from('ee\n'));
    s3.end();
    writeFileSync(join(dir, 'p1'), texts[1] as string);
    joined.ready(1, join(dir, 'p1'));
    const s2 = joined.stream(2, flows[1] as Flow);
    s2.push(Buffer.from(texts[2] as string));
    await tick();
    expect(readFileSync(out, 'utf8')).toBe('');
    writeFileSync(join(dir, 'p0'), texts[0] as string);
    joined.ready(0, join(dir, 'p0'));
    s2.end();
    const result = await joined.finish(4);
    const expected = Buffer.from(texts.join(''));
    expect(readFileSync(out)).toEqual(expected);
    expect(result).toEqual({ hash: sha(expected), bytes: expected.length });
    // Appended files are removed once joined.
    expect(existsSync(join(dir, 'p0')) || existsSync(join(dir, 'p1'))).toBe(false);
  });

  it('pauses a later part past the memory cap and lets it flow again once the parts before it are joined', async () => {
    const joined = await joinInOrder(join(dir, 'joined'), 1000);
    const early = producer();
    const late = producer();
    const s0 = joined.stream(0, early);
    const s1 = joined.stream(1, late);
    s1.push(Buffer.alloc(600, 'b'));
    expect(late.paused).toBe(false);
    s1.push(Buffer.alloc(600, 'b'));
    expect(late.paused).toBe(true);
    // The current part is never left paused: it is what the later part waits for.
    s0.push(Buffer.alloc(700, 'a'));
    await tick();
    expect(early.paused).toBe(false);
    s0.end();
    await tick();
    expect(late.paused).toBe(false);
    s1.end();
    const { bytes } = await joined.finish(2);
    expect(bytes).toBe(1900);
    expect(readFileSync(join(dir, 'joined'), 'latin1')).toBe('a'.repeat(700) + 'b'.repeat(1200));
  });

  it('lets paused producers run on when closed after a failure, and drops what they still send', async () => {
    const joined = await joinInOrder(join(dir, 'joined'), 10);
    const late = producer();
    const s1 = joined.stream(1, late);
    s1.push(Buffer.alloc(100));
    expect(late.paused).toBe(true);
    await joined.close();
    expect(late.paused).toBe(false);
    s1.push(Buffer.alloc(100));
    expect(late.pauses).toBe(1);
  });

  it('fails the finish when a part never came', async () => {
    const joined = await joinInOrder(join(dir, 'joined'));
    writeFileSync(join(dir, 'p1'), 'x');
    joined.ready(1, join(dir, 'p1'));
    const finishing = expect(joined.finish(2)).rejects.toThrow('joined 0 of 2 parts');
    await tick();
    await joined.close();
    await finishing;
  });
});
