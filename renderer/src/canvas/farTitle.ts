import { hyphenateSync } from 'hyphen/en';

const cache = new Map<string, string>();

/**
 * The far-zoom title with soft hyphens at English hyphenation points: at 40 px a 240 px card holds
 * about eight letters a line, and Chromium on Linux ships no hyphenation dictionary, so
 * `hyphens: auto` did nothing and long words broke at an arbitrary letter ("Benchm|ark loss").
 */
export function farTitle(title: string): string {
  let out = cache.get(title);
  if (out === undefined) {
    out = hyphenateSync(title);
    cache.set(title, out);
  }
  return out;
}
