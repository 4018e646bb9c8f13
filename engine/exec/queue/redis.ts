import { Redis } from 'ioredis';

export interface RedisOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
}

/**
 * Parses `redis://[[user]:password@]host:port[/db]` into ioredis options (a Redis reachable from
 * other machines should require a password); BullMQ needs maxRetriesPerRequest null on blocking connections.
 */
export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue needs a redis://host:port address, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:') throw new Error(`--queue needs a redis://host:port address, got ${JSON.stringify(url)}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    db: Number(u.pathname.slice(1) || 0),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    maxRetriesPerRequest: null,
  };
}

/** The address as shown in messages, logs and provenance: never with its password. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Refuses a Redis that may evict keys: with any policy but noeviction, Redis under memory pressure
 * silently drops job keys, and a dropped job is a unit that never runs and never fails.
 */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // The connection's own error (NOAUTH, WRONGPASS, ECONNREFUSED) says more than the "Connection is closed" a command then gets.
  let cause: Error | undefined;
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1] ?? 'unknown';
    if (policy !== 'noeviction') {
      throw new Error(
        `Redis at ${shownUrl(url)} has maxmemory-policy ${policy}; Forge needs noeviction, or Redis may drop queued work units under memory pressure. ` +
          'Fix: redis-cli -u <url> CONFIG SET maxmemory-policy noeviction (and set it in redis.conf)',
      );
    }
  } catch (err) {
    if ((err as Error).message.includes('maxmemory-policy')) throw err;
    throw new Error(`cannot reach Redis at ${shownUrl(url)}: ${(cause ?? (err as Error)).message}`);
  } finally {
    client.disconnect();
  }
}
