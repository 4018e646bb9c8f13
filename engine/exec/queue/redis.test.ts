import { afterAll, describe, expect, it } from 'vitest';
import { QueueLab } from '../../test/queue-harness.js';
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
});
