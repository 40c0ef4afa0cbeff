/**
 * Deterministic pairs for the client-memory tests, shared by the test process and its region
 * owner fixture: keys sort by their number (8-byte big-endian, then 0..8 suffix bytes), value
 * sizes vary and every fifth value is empty.
 */
export function regionKey(n: number): Buffer {
  const key = Buffer.alloc(8 + (n % 9), 0x61 + (n % 26));
  key.writeBigUInt64BE(BigInt(n));
  return key;
}

export function regionValue(n: number, tag = ''): Buffer {
  if (n % 5 === 0) return Buffer.alloc(0);
  const text = `${tag}${n}:`;
  return Buffer.from(text.repeat(1 + ((n * 7) % 23)));
}

/** Pairs of the keys `first`, `first + step`, ... (`count` of them). */
export function regionPairs(first: number, count: number, step = 1, tag = ''): Array<[Buffer, Buffer]> {
  return Array.from({ length: count }, (_, i) => {
    const n = first + i * step;
    return [regionKey(n), regionValue(n, tag)];
  });
}
