/**
 * A minimal ONNX model writer (protobuf encoding of ModelProto by hand; there is no onnx package
 * for Node). Enough to build test and benchmark models from standard operators: float32 / int64
 * initializers, tensor inputs and outputs with symbolic or fixed dims, node attributes of type
 * int, float, ints, floats and string.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8, default domain opset 17).
 */
export type OnnxElemType = 'float32' | 'int64' | 'int32' | 'float64' | 'bool';
const ELEM: Record<OnnxElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export interface OnnxValueInfo {
  name: string;
  type: OnnxElemType;
  /** A number is a fixed dim; a string a symbolic one (e.g. 'B'). */
  shape: (number | string)[];
}

export interface OnnxInitializer {
  name: string;
  type: 'float32' | 'int64';
  dims: number[];
  values: ArrayLike<number>;
}

export type OnnxAttribute = number | string | number[] | { floats: number[] } | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** Integers become INT / INTS; use {float} / {floats} for float attributes. */
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxGraph {
  name?: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers?: OnnxInitializer[];
  nodes: OnnxNode[];
  opset?: number;
  producer?: string;
}

/** Protobuf wire encoding: varints, length-delimited fields, fixed32 floats. */
class Writer {
  private chunks: Buffer[] = [];
  private static varint(v: number | bigint): Buffer {
    let x = BigInt.asUintN(64, BigInt(v));
    const bytes: number[] = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      bytes.push(b);
    } while (x);
    return Buffer.from(bytes);
  }
  private tag(field: number, wire: number) {
    this.chunks.push(Writer.varint((field << 3) | wire));
  }
  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.chunks.push(Writer.varint(v));
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.chunks.push(Writer.varint(b.length), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }
  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.chunks.push(b);
    return this;
  }
  packedFloats(field: number, vs: number[]): this {
    const b = Buffer.alloc(4 * vs.length);
    vs.forEach((v, i) => b.writeFloatLE(v, 4 * i));
    return this.bytes(field, b);
  }
  packedInts(field: number, vs: number[]): this {
    return this.bytes(field, Buffer.concat(vs.map((v) => Writer.varint(v))));
  }
  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function valueInfo(v: OnnxValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, ELEM[v.type]).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function initializer(t: OnnxInitializer): Writer {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.values.length !== n) throw new RangeError(`initializer ${t.name}: ${t.values.length} values for dims [${t.dims}]`);
  let raw: Buffer;
  if (t.type === 'float32') {
    const f = Float32Array.from(t.values);
    raw = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  } else {
    const a = BigInt64Array.from(Array.from(t.values, (v) => BigInt(v)));
    raw = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  }
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  return w.int(2, ELEM[t.type]).string(8, t.name).bytes(9, raw);
}

function attribute(name: string, a: OnnxAttribute): Writer {
  const w = new Writer().string(1, name);
  // AttributeProto.type: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7.
  if (typeof a === 'number') return w.int(3, a).int(20, 2);
  if (typeof a === 'string') return w.string(4, a).int(20, 3);
  if (Array.isArray(a)) return w.packedInts(8, a).int(20, 7);
  if ('floats' in a) return w.packedFloats(7, a.floats).int(20, 6);
  return w.float(2, a.float).int(20, 1);
}

function node(n: OnnxNode, i: number): Writer {
  const w = new Writer();
  for (const x of n.inputs) w.string(1, x);
  for (const x of n.outputs) w.string(2, x);
  w.string(3, n.name ?? `${n.op}_${i}`).string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attribute(k, v));
  return w;
}

/** Serialises a graph into ONNX ModelProto bytes. */
export function encodeOnnxModel(g: OnnxGraph): Buffer {
  const graph = new Writer();
  g.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, g.name ?? 'graph');
  for (const t of g.initializers ?? []) graph.message(5, initializer(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  return new Writer()
    .int(1, 8) // ir_version
    .string(2, g.producer ?? 'recsys-suite onnx-writer')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, g.opset ?? 17))
    .finish();
}
