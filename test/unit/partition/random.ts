import { seededUint32 } from '../../../examples/seeded-random.js';

/**
 * The seeded generator shaped for partition tests, so that every one sees the same "random" keys
 * on every run: the tests assert exact results, never probabilities.
 */
export interface Random {
  uint32(): number;
  /** An integer in 0..bound-1. */
  below(bound: number): number;
  bytes(length: number): Uint8Array;
}

export function seededRandom(seed: number): Random {
  const uint32 = seededUint32(seed);
  return {
    uint32,
    below: (bound) => uint32() % bound,
    bytes: (length) => {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = uint32() & 0xff;
      return out;
    },
  };
}

/** `count` random keys of `length` bytes each. */
export function randomKeys(seed: number, count: number, length = 16): Uint8Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => random.bytes(length));
}
