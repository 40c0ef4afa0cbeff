import type { KeyValue } from '../../core/keys/key-type.js';

/** An 8-byte big-endian key for a bytes store: byte order is numeric order. */
export function u64Key(n: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64BE(BigInt(n));
  return key;
}

/** The number an 8-byte key read back from a bytes store stands for (scans return a Buffer). */
export function u64Of(key: KeyValue): number {
  return Number((key as Buffer).readBigUInt64BE());
}
