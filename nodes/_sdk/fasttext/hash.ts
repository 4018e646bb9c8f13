/**
 * fastText's hashing, bit for bit: FNV-1a over UTF-8 bytes with each byte sign-extended as a
 * (signed) char, and the 64-bit word n-gram hash `h = h * 116049371 + hash(next)` where each 32-bit
 * word hash was stored as int32 and is sign-extended to 64 bits. Getting these exactly right is what
 * lets Forge load users' `.bin`/`.ftz` models and produce the same features as the C++ tool.
 */

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/** fastText's `Dictionary::hash` over bytes[start, end); returns the uint32 as a non-negative number. */
export function fnvHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV_OFFSET | 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    h ^= b >= 0x80 ? b | 0xffffff00 : b;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Continues an FNV hash (as returned by fnvStep/fnvHash) with one more byte. */
export function fnvStep(h: number, b: number): number {
  return Math.imul(h ^ (b >= 0x80 ? b | 0xffffff00 : b), FNV_PRIME) >>> 0;
}

export const FNV_START = FNV_OFFSET;

const encoder = new TextEncoder();
export function hashString(s: string): number {
  return fnvHash(encoder.encode(s));
}

const C = 116049371;
const TWO32 = 4294967296;

/**
 * Word n-gram buckets of one line, exactly as `Dictionary::addWordNgrams`: for every start i and
 * every n-gram length up to n, the 64-bit hash modulo `bucket`. `hashes` are the uint32 token hashes
 * (as numbers); `push` receives each bucket index (before pruning / offsetting by nwords).
 */
export function wordNgramBuckets(hashes: ArrayLike<number>, n: number, bucket: number, push: (b: number) => void): void {
  if (n <= 1 || bucket <= 0) return;
  const len = hashes.length;
  const twoPow32ModB = TWO32 % bucket;
  const exact = bucket <= 1 << 26;
  for (let i = 0; i < len; i++) {
    const hi0 = hashes[i]!;
    // uint64_t h = int32_t(hash): sign-extend.
    let lo = hi0 >>> 0;
    let hi = hi0 >= 0x80000000 ? 0xffffffff : 0;
    for (let j = i + 1; j < len && j < i + n; j++) {
      // (hi, lo) * C mod 2^64, with every partial product exact in a double.
      const a = lo >>> 16;
      const b = lo & 0xffff;
      const p1 = b * C; // < 2^43
      const p2 = a * C; // < 2^43
      const p2l = p2 % 65536;
      const p2h = (p2 - p2l) / 65536; // < 2^27
      const s = p2l * 65536 + p1; // < 2^44
      const sLo = s % TWO32;
      const carry = p2h + (s - sLo) / TWO32;
      let nhi = (Math.imul(hi, C) + carry) >>> 0;
      // + uint64_t(int32_t(hash_j))
      const hj = hashes[j]!;
      const addHi = hj >= 0x80000000 ? 0xffffffff : 0;
      let nlo = sLo + (hj >>> 0);
      if (nlo >= TWO32) {
        nlo -= TWO32;
        nhi = (nhi + 1) >>> 0;
      }
      nhi = (nhi + addHi) >>> 0;
      lo = nlo;
      hi = nhi;
      if (exact) push(((hi % bucket) * twoPow32ModB + (lo % bucket)) % bucket);
      else push(Number(((BigInt(hi) << 32n) | BigInt(lo)) % BigInt(bucket)));
    }
  }
}
