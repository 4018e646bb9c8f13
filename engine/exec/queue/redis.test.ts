import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { QueueLab, waitFor } from '../../test/queue-harness.js';
import { QUEUE_NAME } from './protocol.js';
import { lastEventId } from './queue-executor.js';
import { checkRedis, redisOptions, shownUrl } from './redis.js';

const lab = new QueueLab();
afterAll(() => lab.cleanup());

describe('Redis addresses', () => {
  it('parse host, port, db and credentials, and never show the password', () => {
    expect(redisOptions('redis://127.0.0.1:6390')).toEqual({ host: '127.0.0.1', port: 6390, db: 0, maxRetriesPerRequest: null });
    expect(redisOptions('redis://:s%40cret@10.0.0.5:6379/2')).toEqual({ host: '10.0.0.5', port: 6379, db: 2, password: 's@cret', maxRetriesPerRequest: null });
    expect(redisOptions('redis://forge:pw@h')).toMatchObject({ host: 'h', port: 6379, username: 'forge', password: 'pw' });
    expect(shownUrl('redis://:s%40cret@10.0.0.5:6379/2')).toBe('redis://:***@10.0.0.5:6379/2');
    expect(shownUrl('redis://127.0.0.1:6390')).toBe('redis://127.0.0.1:6390');
    expect(() => redisOptions('http://h:1')).toThrow('--queue needs a redis://host:port address');
  });

  it('a password-protected Redis is reached with the password from the URL; without it the refusal names the address, never the password', async () => {
    const { url, port } = await lab.startRedis([], undefined, 's@cret');
    await expect(checkRedis(url)).resolves.toBeUndefined();
    await expect(checkRedis(`redis://127.0.0.1:${port}`)).rejects.toThrow(`cannot reach Redis at redis://127.0.0.1:${port}: NOAUTH`);
    const wrong = checkRedis(`redis://:nope@127.0.0.1:${port}`);
    await expect(wrong).rejects.toThrow(`cannot reach Redis at redis://:***@127.0.0.1:${port}: WRONGPASS`);
    await expect(wrong).rejects.not.toThrow('nope');
  });

  it('a job that finished before the coordinator first read the event stream is still reported', async () => {
    const { url } = await lab.startRedis();
    const connection = redisOptions(url);
    expect(await lastEventId(url)).toBe('0-0');
    const queue = new Queue(QUEUE_NAME, { connection });
    let worker: Worker | undefined;
    let events: QueueEvents | undefined;
    try {
      // Queued with no worker yet: the coordinator connects now, after the job's first events.
      await queue.add('x', {}, { jobId: 'early' });
      const from = await lastEventId(url);
      // The id is the stream's newest, not a default: reading on from it skips nothing later.
      expect(from).toMatch(/^\d+-\d+$/);
      expect(from).not.toBe('0-0');
      worker = new Worker(QUEUE_NAME, () => Promise.resolve('done'), { connection });
      await waitFor(
        async () => (await queue.getJobState('early')) === 'completed',
        () => 'the worker never completed the job',
      );
      // A reader that starts now, from where the coordinator connected, still gets the completion ('$' would not).
      events = new QueueEvents(QUEUE_NAME, { connection, lastEventId: from });
      const completed = new Promise<string>((resolve) =>
        events?.on('completed', ({ jobId, returnvalue }) => {
          if (jobId === 'early') resolve(String(returnvalue));
        }),
      );
      expect(await completed).toBe('done');
    } finally {
      await Promise.all([worker?.close(), queue.close(), events?.close()]);
    }
  }, 120_000);
});
