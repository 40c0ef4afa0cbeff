import { SandboxPool } from '../../../procedures/sandbox-pool.js';
import { seededRandom } from '../partition/random.js';

export type Rand = () => number;

/** Floats in [0, 1) from the tests' one seeded generator (test/unit/partition/random.ts), the same every run. */
export function seeded(seed: number): Rand {
  const random = seededRandom(seed);
  return () => random.uint32() / 2 ** 32;
}

export const BUDGET = { cpuMsMax: 10_000, wallMsMax: 5_000 };

export function newPool(keyType = 'bytes', isolates = 1): Promise<SandboxPool> {
  return SandboxPool.create({ isolates, isolateMemoryMbMax: 32, compiledProceduresMax: 4, keyType });
}

export const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));
