import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

/**
 * A small ONNX graph writer: build a graph of standard operators with float32/int64 initializers
 * and encode it as an ordinary `.onnx` file (ModelProto), using the schema subset in
 * `onnx-subset.proto` loaded with protobufjs. Enough for the models Forge builds itself (embedding
 * bags, fastText classifiers, k-NN scoring, test encoders); not a general converter.
 */

export type DType = 'float32' | 'int64' | 'int32' | 'bool';
export type Dim = number | string;
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

const ELEM_TYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

/** Attribute values: number → INT, number[] → INTS, string → STRING, {float} / {floats} for floats. */
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: ({ dimValue: number } | { dimParam: string })[] } } };
}

/** The opset every Forge-built model imports (ONNX Runtime 1.17+ supports it fully). */
export const DEFAULT_OPSET = 17;
/** IR version 8 pairs with opset 17. */
const IR_VERSION = 8;

let root: protobuf.Root | undefined;

/** The ONNX schema subset, loaded once per thread. */
export function onnxSchema(): protobuf.Root {
  root ??= protobuf.loadSync(fileURLToPath(new URL('./onnx-subset.proto', import.meta.url)));
  return root;
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

export class OnnxGraph {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'forge') {}

  private fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: name "${name}" used twice`);
    this.names.add(name);
    return name;
  }

  private valueInfo(name: string, dtype: DType, dims: readonly Dim[]): ValueInfo {
    return {
      name,
      type: { tensorType: { elemType: ELEM_TYPE[dtype], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    };
  }

  /** Declares a graph input; returns its name. */
  input(name: string, dtype: DType, dims: readonly Dim[]): string {
    this.inputs.push(this.valueInfo(this.claim(name), dtype, dims));
    return name;
  }

  /** Declares `value` (a tensor name produced by a node) as a graph output under its own name. */
  output(name: string, dtype: DType, dims: readonly Dim[]): void {
    this.outputs.push(this.valueInfo(name, dtype, dims));
  }

  /** A constant tensor stored in the model (raw little-endian bytes); returns its name. */
  init(name: string | undefined, data: TensorData, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`ONNX initializer ${name ?? ''}: ${data.length} values for shape [${dims.join(', ')}]`);
    const n = name ? this.claim(name) : this.fresh('const');
    this.initializers.push({ name: n, dims: [...dims], dataType: ELEM_TYPE[dtypeOf(data)], rawData: bytesOf(data) });
    return n;
  }

  /** int64 constant, e.g. axes or shapes. */
  ints(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.init(undefined, BigInt64Array.from(values.map((v) => BigInt(v))), dims);
  }

  /** float32 scalar or vector constant. */
  floats(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.init(undefined, Float32Array.from(values), dims);
  }

  /** Adds one operator node; returns its output names (one per `outputs`). */
  opN(opType: string, inputs: readonly string[], outputs: number | readonly string[], attrs: Record<string, AttrValue> = {}): string[] {
    const outNames = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs.map((o) => this.claim(o));
    const attribute = Object.entries(attrs).map(([key, v]) => {
      if (typeof v === 'number') return { name: key, type: 2, i: v };
      if (typeof v === 'string') return { name: key, type: 3, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name: key, type: 7, ints: v };
      if ('float' in v) return { name: key, type: 1, f: v.float };
      return { name: key, type: 6, floats: v.floats };
    });
    this.nodes.push({ input: [...inputs], output: outNames, opType, name: this.fresh(`n_${opType}`), attribute });
    return outNames;
  }

  /** Adds one single-output operator node; returns the output name (or `as`, if given). */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, as?: string): string {
    return this.opN(opType, inputs, as ? [as] : 1, attrs)[0] as string;
  }

  /** Encodes the model as `.onnx` bytes. */
  encode(opts: { opset?: number; producer?: string; docString?: string; metadata?: Record<string, string> } = {}): Uint8Array {
    const ModelProto = onnxSchema().lookupType('onnx.ModelProto');
    const model = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: opts.opset ?? DEFAULT_OPSET }],
      producerName: opts.producer ?? 'forge-studio',
      producerVersion: '1',
      docString: opts.docString,
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    const err = ModelProto.verify(model);
    if (err) throw new Error(`ONNX model does not match the schema: ${err}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}

/** Decoded view of a model: enough to inspect opsets, inputs, outputs, initializer shapes in tests. */
export interface DecodedModel {
  irVersion: number;
  opset: number;
  inputs: string[];
  outputs: string[];
  initializers: { name: string; dims: number[] }[];
  ops: string[];
  metadata: Record<string, string>;
}

export function decodeModel(bytes: Uint8Array): DecodedModel {
  const ModelProto = onnxSchema().lookupType('onnx.ModelProto');
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: true }) as {
    irVersion: number;
    opsetImport: { domain: string; version: number }[];
    graph: { input: { name: string }[]; output: { name: string }[]; initializer: { name: string; dims: number[] }[]; node: { opType: string }[] };
    metadataProps: { key: string; value: string }[];
  };
  return {
    irVersion: m.irVersion,
    opset: m.opsetImport.find((o) => !o.domain)?.version ?? 0,
    inputs: m.graph.input.map((i) => i.name),
    outputs: m.graph.output.map((o) => o.name),
    initializers: m.graph.initializer.map((t) => ({ name: t.name, dims: t.dims })),
    ops: m.graph.node.map((n) => n.opType),
    metadata: Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value])),
  };
}
