/**
 * The vector loops of fastText's SGD step as a tiny WebAssembly module using 128-bit SIMD
 * (f32x4), emitted here as bytes — no compiler toolchain. The weights live in one (shared)
 * WebAssembly.Memory, so Hogwild! worker threads update the same matrices lock-free.
 *
 * Exports (pointers are byte offsets into the memory, `dim` in floats):
 * - gather_mean(ids, n, input, dim, hidden, inv): hidden = inv · Σ input[ids[p]]   (computeHidden)
 * - scatter_add(ids, n, input, dim, grad, scale): grad *= scale; input[ids[p]] += grad  (update)
 * - dot(a, b, dim) → f32
 * - axpy_pair(out, grad, hidden, dim, alpha): grad += alpha · out; out += alpha · hidden
 *   (one output row of a softmax / binary-logistic step, in fastText's order)
 * Only the lane-wise IEEE f32 operations of the SIMD proposal are used (no relaxed SIMD), so the
 * results are identical on every machine.
 */

const I32 = 0x7f;
const F32 = 0x7d;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Instructions (locals by index).
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const f32c = (v: number) => {
  const b = new Uint8Array(new Float32Array([v]).buffer);
  return [0x43, ...b];
};
const I32_ADD = [0x6a];
const I32_MUL = [0x6c];
const I32_SHL = [0x74];
const I32_LT_S = [0x48];
const I32_AND = [0x71];
const F32_ADD = [0x92];
const F32_MUL = [0x94];
const i32load = [0x28, 0x02, 0x00];
const f32load = [0x2a, 0x02, 0x00];
const f32store = [0x38, 0x02, 0x00];
const v128load = [0xfd, 0x00, 0x02, 0x00];
const v128store = [0xfd, 0x0b, 0x02, 0x00];
const F32X4_SPLAT = [0xfd, 0x13];
const lane = (l: number) => [0xfd, 0x1f, l];
const F32X4_ADD = [0xfd, 0xe4, 0x01];
const F32X4_MUL = [0xfd, 0xe6, 0x01];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const END = [0x0b];

/** `while (i < limit) { body; i += step }` as block/loop/br_if. */
function forLoop(i: number, limit: number[], step: number, body: number[]): number[] {
  return [
    0x02,
    0x40, // block
    0x03,
    0x40, // loop
    ...get(i),
    ...limit,
    ...I32_LT_S,
    0x45,
    0x0d,
    0x01, // br_if 1 (exit) unless i < limit
    ...body,
    ...get(i),
    ...i32c(step),
    ...I32_ADD,
    ...set(i),
    0x0c,
    0x00, // br 0 (continue)
    ...END,
    ...END,
  ];
}

/** addr = base + (i << 2) */
const addr = (base: number, i: number) => [...get(base), ...get(i), ...i32c(2), ...I32_SHL, ...I32_ADD];

/**
 * One f32 operation in its two widths: every loop below runs the 4-lane form up to `end4` (dim
 * rounded down to a multiple of 4) and the scalar form for the tail, with the same body.
 */
interface Width {
  step: number;
  load: number[];
  store: number[];
  add: number[];
  mul: number[];
  zero: number[];
  /** Turns an f32 on the stack into this width's operand (a splat for 4 lanes, nothing for 1). */
  splat: number[];
}
const LANES4: Width = { step: 4, load: v128load, store: v128store, add: F32X4_ADD, mul: F32X4_MUL, zero: V128_ZERO, splat: F32X4_SPLAT };
const LANE1: Width = { step: 1, load: f32load, store: f32store, add: F32_ADD, mul: F32_MUL, zero: f32c(0), splat: [] };

/** `body` for j over [j, end4) by 4 lanes, then over [end4, dim) one at a time (j is not reset in between). */
const overDim = (j: number, end4: number, dim: number, body: (w: Width) => number[]) => [...forLoop(j, get(end4), LANES4.step, body(LANES4)), ...forLoop(j, get(dim), LANE1.step, body(LANE1))];

/** end4 = dim & -4: where the 4-lane loop stops. */
const setEnd4 = (dim: number, end4: number) => [...get(dim), ...i32c(-4), ...I32_AND, ...set(end4)];

/** row = input + ((ids[p] * dim) << 2): the byte address of the embedding row of the p-th id. */
const setRow = (ids: number, p: number, input: number, dim: number, row: number) => [
  ...get(input),
  ...addr(ids, p),
  ...i32load,
  ...get(dim),
  ...I32_MUL,
  ...i32c(2),
  ...I32_SHL,
  ...I32_ADD,
  ...set(row),
];

/** dst[j] = 0 */
const zeroAt = (dst: number, j: number) => (w: Width) => [...addr(dst, j), ...w.zero, ...w.store];
/** dst[j] += src[j] */
const addAt = (dst: number, src: number, j: number) => (w: Width) => [...addr(dst, j), ...addr(dst, j), ...w.load, ...addr(src, j), ...w.load, ...w.add, ...w.store];
/** dst[j] *= s (an f32 local) */
const scaleAt = (dst: number, s: number, j: number) => (w: Width) => [...addr(dst, j), ...addr(dst, j), ...w.load, ...get(s), ...w.splat, ...w.mul, ...w.store];
/** dst[j] += a · src[j], where `a(w)` pushes the factor in width w */
const addScaledAt = (dst: number, src: number, j: number, a: (w: Width) => number[]) => (w: Width) => [
  ...addr(dst, j),
  ...addr(dst, j),
  ...w.load,
  ...a(w),
  ...addr(src, j),
  ...w.load,
  ...w.mul,
  ...w.add,
  ...w.store,
];

function func(params: number[], results: number[], locals: number[], body: number[]): { type: number[]; code: number[] } {
  const type = [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
  const localDecl = vec(locals.map((t) => [1, t]));
  const code = [...localDecl, ...body, ...END];
  return { type, code: [...uleb(code.length), ...code] };
}

function moduleBytes(): Uint8Array {
  // gather_mean(ids, n, input, dim, hidden, inv) — locals: p 6, j 7, row 8, end4 9, sc 10 (v128 splat kept on the stack)
  const gather = func(
    [I32, I32, I32, I32, I32, F32],
    [],
    [I32, I32, I32, I32],
    [
      ...setEnd4(3, 9),
      // zero hidden
      ...i32c(0),
      ...set(7),
      ...overDim(7, 9, 3, zeroAt(4, 7)),
      ...i32c(0),
      ...set(6),
      ...forLoop(6, get(1), 1, [...setRow(0, 6, 2, 3, 8), ...i32c(0), ...set(7), ...overDim(7, 9, 3, addAt(4, 8, 7))]),
      // hidden *= inv
      ...i32c(0),
      ...set(7),
      ...overDim(7, 9, 3, scaleAt(4, 5, 7)),
    ],
  );

  // scatter_add(ids, n, input, dim, grad, scale) — locals: p 6, j 7, row 8, end4 9
  const scatter = func(
    [I32, I32, I32, I32, I32, F32],
    [],
    [I32, I32, I32, I32],
    [
      ...setEnd4(3, 9),
      // grad *= scale
      ...i32c(0),
      ...set(7),
      ...overDim(7, 9, 3, scaleAt(4, 5, 7)),
      ...i32c(0),
      ...set(6),
      ...forLoop(6, get(1), 1, [...setRow(0, 6, 2, 3, 8), ...i32c(0), ...set(7), ...overDim(7, 9, 3, addAt(8, 4, 7))]),
    ],
  );

  // dot(a, b, dim) -> f32 — locals: j 3, end4 4, acc(v128) 5, s(f32) 6
  const V128 = 0x7b;
  const dot = func(
    [I32, I32, I32],
    [F32],
    [I32, I32, V128, F32],
    [
      ...setEnd4(2, 4),
      ...V128_ZERO,
      ...set(5),
      ...i32c(0),
      ...set(3),
      ...forLoop(3, get(4), 4, [...get(5), ...addr(0, 3), ...v128load, ...addr(1, 3), ...v128load, ...F32X4_MUL, ...F32X4_ADD, ...set(5)]),
      ...get(5),
      ...lane(0),
      ...get(5),
      ...lane(1),
      ...F32_ADD,
      ...get(5),
      ...lane(2),
      ...F32_ADD,
      ...get(5),
      ...lane(3),
      ...F32_ADD,
      ...set(6),
      ...forLoop(3, get(2), 1, [...get(6), ...addr(0, 3), ...f32load, ...addr(1, 3), ...f32load, ...F32_MUL, ...F32_ADD, ...set(6)]),
      ...get(6),
    ],
  );

  // axpy_pair(out, grad, hidden, dim, alpha) — locals: j 5, end4 6, a(v128) 7
  // alpha splatted once into local 7 for the 4-lane loop; the tail reads the f32 param itself.
  const alpha = (w: Width) => (w === LANES4 ? get(7) : get(4));
  const axpy = func(
    [I32, I32, I32, I32, F32],
    [],
    [I32, I32, V128],
    [
      ...setEnd4(3, 6),
      ...get(4),
      ...F32X4_SPLAT,
      ...set(7),
      ...i32c(0),
      ...set(5),
      // grad += a * out (the old out), then out += a * hidden
      ...overDim(5, 6, 3, (w) => [...addScaledAt(1, 0, 5, alpha)(w), ...addScaledAt(0, 2, 5, alpha)(w)]),
    ],
  );

  const fns = [gather, scatter, dot, axpy];
  const names = ['gather_mean', 'scatter_add', 'dot', 'axpy_pair'];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(fns.map((f) => f.type))),
    // import env.memory: shared, min 1, max 65536 pages (4 GiB)
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x03, ...uleb(1), ...uleb(65536)]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(names.map((n, i) => [...str(n), 0x00, ...uleb(i)]))),
    ...section(10, vec(fns.map((f) => f.code))),
  ];
  return Uint8Array.from(bytes);
}

export interface SimdKernel {
  gather_mean(ids: number, n: number, input: number, dim: number, hidden: number, inv: number): void;
  scatter_add(ids: number, n: number, input: number, dim: number, grad: number, scale: number): void;
  dot(a: number, b: number, dim: number): number;
  axpy_pair(out: number, grad: number, hidden: number, dim: number, alpha: number): void;
}

// The project compiles without DOM typings; these are the few WebAssembly APIs used here.
/** A compiled WebAssembly module (opaque; cloneable to worker threads). */
export type WasmModule = { readonly __wasmModule?: never };
/** A WebAssembly memory; shared ones are cloneable to worker threads, their buffer is a SharedArrayBuffer. */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
export function simdModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export function sharedMemory(pages: number): WasmMemory {
  if (!wasm) throw new Error('WebAssembly is not available');
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
}

export function instantiate(module: WasmModule, memory: WasmMemory): SimdKernel {
  if (!wasm) throw new Error('WebAssembly is not available');
  return new wasm.Instance(module, { env: { memory } }).exports as unknown as SimdKernel;
}

export const PAGE = 65536;
export const MAX_BYTES = 65536 * PAGE;
