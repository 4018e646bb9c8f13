import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopbackAddress(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function tokenEquals(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token from `Authorization: Bearer …`, or `?token=` (WebSocket upgrades cannot set headers in browsers). */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token');
}

export function hasValidToken(req: IncomingMessage, url: URL, expected: string): boolean {
  const t = requestToken(req, url);
  return t !== null && tokenEquals(t, expected);
}

/**
 * Blocks DNS-rebinding and cross-site requests: the Host must be a loopback name, and a browser
 * Origin, when sent, must be this server's own.
 */
export function originAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host ?? '';
  const hostName = host.replace(/:\d+$/, '');
  if (!isLoopbackAddress(hostName)) return false;
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    const o = new URL(origin);
    return (o.protocol === 'http:' && isLoopbackAddress(o.hostname) && Number(o.port) === port) || origin === 'file://';
  } catch {
    return false;
  }
}
