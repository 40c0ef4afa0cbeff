// The stored form of a state. The caller msgpack-encodes this object; positions travel as raw
// little-endian float64 bytes (bin in msgpack) rather than 225 msgpack floats: smaller, exact,
// and one copy to decode.

export interface StoredState {
  label: string;
  energy: number;
  atoms: number;
  /** Float64 little-endian bytes of the minimized structure, 24 * atoms bytes. */
  positions: Uint8Array;
}

export function toStoredState(label: string, energy: number, minimized: Float64Array): StoredState {
  if (minimized.length % 3 !== 0) throw new RangeError(`positions length ${minimized.length} is not a multiple of 3`);
  const bytes = new Uint8Array(minimized.length * 8);
  const view = new DataView(bytes.buffer);
  for (let k = 0; k < minimized.length; k++) view.setFloat64(8 * k, minimized[k]!, true);
  return { label, energy, atoms: minimized.length / 3, positions: bytes };
}

/**
 * Copies the positions out of `state.positions`, which may be a view at any offset of a larger
 * buffer (msgpack decoders hand out such views), so it reads through a DataView, never a
 * Float64Array over the bytes, which would need 8-byte alignment.
 */
export function positionsOf(state: StoredState): Float64Array {
  const bytes = state.positions;
  if (bytes.byteLength !== state.atoms * 24) {
    throw new RangeError(`stored positions hold ${bytes.byteLength} bytes, ${state.atoms} atoms need ${state.atoms * 24}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const positions = new Float64Array(state.atoms * 3);
  for (let k = 0; k < positions.length; k++) positions[k] = view.getFloat64(8 * k, true);
  return positions;
}
