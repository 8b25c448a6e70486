/**
 * Just enough of the ONNX format (a protobuf `ModelProto`, field numbers of
 * onnx/onnx.proto) to read a graph's operator sequence and its initialiser
 * tensors: what the bundled static model needs to run without an ONNX runtime.
 */

/** onnx.TensorProto.DataType values the static model uses. */
export const ONNX_FLOAT = 1;
export const ONNX_INT8 = 3;

export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** The tensor's bytes, little-endian (TensorProto.raw_data); empty when the file stores them otherwise. */
  raw: Uint8Array;
}

export interface OnnxGraph {
  /** op_type of every node, in graph order. */
  ops: string[];
  initializers: Map<string, OnnxTensor>;
}

/** A varint field's value, or a length-delimited field's bytes (a view into the message, not a copy). */
type Field = { field: number; value: number; bytes?: undefined } | { field: number; bytes: Uint8Array; value?: undefined };

/** Read one varint from `data` at `cursor.at`, advancing it. */
function readVarint(data: Uint8Array, cursor: { at: number }): number {
  let value = 0;
  for (let scale = 1; ; scale *= 128) {
    if (cursor.at >= data.length) throw new Error('truncated varint');
    const byte = data[cursor.at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    if (scale > 2 ** 49) throw new Error('varint beyond 2^53');
  }
}

/** The fields of one protobuf message, in order; fixed-width fields are skipped. */
function* fields(data: Uint8Array): Generator<Field> {
  const cursor = { at: 0 };
  while (cursor.at < data.length) {
    const key = readVarint(data, cursor);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) yield { field, value: readVarint(data, cursor) };
    else if (wire === 1) cursor.at += 8;
    else if (wire === 5) cursor.at += 4;
    else if (wire === 2) {
      const length = readVarint(data, cursor);
      if (cursor.at + length > data.length) throw new Error('truncated field');
      yield { field, bytes: data.subarray(cursor.at, cursor.at + length) };
      cursor.at += length;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  if (cursor.at !== data.length) throw new Error('truncated message');
}

const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

function readTensor(data: Uint8Array): OnnxTensor {
  const tensor: OnnxTensor = { name: '', dataType: 0, dims: [], raw: new Uint8Array(0) };
  for (const f of fields(data)) {
    if (f.field === 1 && f.bytes === undefined) tensor.dims.push(f.value);
    else if (f.field === 1 && f.bytes) {
      // dims written packed
      const cursor = { at: 0 };
      while (cursor.at < f.bytes.length) tensor.dims.push(readVarint(f.bytes, cursor));
    } else if (f.field === 2 && f.bytes === undefined) tensor.dataType = f.value;
    else if (f.field === 8 && f.bytes) tensor.name = utf8(f.bytes);
    else if (f.field === 9 && f.bytes) tensor.raw = f.bytes;
  }
  return tensor;
}

/** The operators and initialisers of an ONNX model file's main graph. */
export function readOnnxGraph(model: Uint8Array): OnnxGraph {
  const graph: OnnxGraph = { ops: [], initializers: new Map() };
  let found = false;
  for (const f of fields(model)) {
    if (f.field !== 7 || !f.bytes) continue; // ModelProto.graph
    found = true;
    for (const g of fields(f.bytes)) {
      if (g.field === 1 && g.bytes) {
        for (const n of fields(g.bytes)) if (n.field === 4 && n.bytes) graph.ops.push(utf8(n.bytes)); // NodeProto.op_type
      } else if (g.field === 5 && g.bytes) {
        const tensor = readTensor(g.bytes); // GraphProto.initializer
        graph.initializers.set(tensor.name, tensor);
      }
    }
  }
  if (!found) throw new Error('not an ONNX model: it has no graph');
  return graph;
}
