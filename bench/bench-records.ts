/** The records the kv and region benches write: the same keys and values, so their figures compare. */

/** Scrambled (not sequential) keys, as a hashed workload would write them. */
export function benchKey(i: number): Buffer {
  const x = Math.imul(i ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  return Buffer.from(`k${x.toString(16).padStart(8, '0')}${i.toString(36).padStart(6, '0')}`);
}

/** A value of `size` bytes that names its record (the first 4 bytes are `i`). */
export function benchValue(i: number, size: number): Buffer {
  const value = Buffer.alloc(size, i & 0xff);
  value.writeUInt32BE(i, 0);
  return value;
}
