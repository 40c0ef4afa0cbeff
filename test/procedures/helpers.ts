import { SandboxPool } from '../../procedures/sandbox-pool.js';

export type Rand = () => number;

/** mulberry32: seeded, so the random data is the same every run. */
export function seeded(seed: number): Rand {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

export const BUDGET = { cpuMsMax: 10_000, wallMsMax: 5_000 };

export function newPool(keyType = 'bytes', isolates = 1): Promise<SandboxPool> {
  return SandboxPool.create({ isolates, isolateMemoryMbMax: 32, compiledProceduresMax: 4, keyType });
}

export const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));
