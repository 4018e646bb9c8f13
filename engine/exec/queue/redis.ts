import { Redis } from 'ioredis';

/** Parses `redis://host:port[/db]` into ioredis options; BullMQ needs maxRetriesPerRequest null on blocking connections. */
export function redisOptions(url: string): { host: string; port: number; db: number; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue needs a redis://host:port address, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:') throw new Error(`--queue needs a redis://host:port address, got ${JSON.stringify(url)}`);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), db: Number(u.pathname.slice(1) || 0), maxRetriesPerRequest: null };
}

/**
 * Refuses a Redis that may evict keys: with any policy but noeviction, Redis under memory pressure
 * silently drops job keys, and a dropped job is a unit that never runs and never fails.
 */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1] ?? 'unknown';
    if (policy !== 'noeviction') {
      throw new Error(
        `Redis at ${url} has maxmemory-policy ${policy}; Forge needs noeviction, or Redis may drop queued work units under memory pressure. ` +
          'Fix: redis-cli -u <url> CONFIG SET maxmemory-policy noeviction (and set it in redis.conf)',
      );
    }
  } catch (err) {
    if ((err as Error).message.includes('maxmemory-policy')) throw err;
    throw new Error(`cannot reach Redis at ${url}: ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }
}
