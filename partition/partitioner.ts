import type { PartitionSpec } from '../core/group-file.js';
import { HashRing } from './hash-ring.js';
import { SlicePartitioner } from './mdhim-slices.js';
import { RangeTable } from './range-table.js';

export type { KeyBound, Partitioner } from './partitioner-contract.js';
import type { Partitioner } from './partitioner-contract.js';

/** The partitioner a group file's partition spec describes, for a group of `serverCount` servers. */
export function createPartitioner(spec: PartitionSpec, serverCount: number): Partitioner {
  switch (spec.scheme) {
    case 'hash':
      return new HashRing(serverCount, spec.virtualNodes, spec.seed);
    case 'range':
      return RangeTable.fromSpec(spec, serverCount);
    case 'slices':
      return SlicePartitioner.fromSpec(spec, serverCount);
    default: {
      // Unreachable while the types hold; specs from untyped sources still get a clear error.
      const unknown: never = spec;
      throw new TypeError(`createPartitioner: unknown partition scheme ${String((unknown as { scheme?: unknown }).scheme)}`);
    }
  }
}

/**
 * Splits a batch by owner: entry `s` lists, in the caller's order, the indices into `keys` of the
 * keys server `s` owns (empty when it owns none). The client sends one message per non-empty entry
 * and writes each reply's results back at these indices, restoring the caller's order.
 */
export function groupByServer(partitioner: Partitioner, keys: readonly Uint8Array[]): number[][] {
  const byServer: number[][] = Array.from({ length: partitioner.serverCount }, () => []);
  for (let i = 0; i < keys.length; i++) {
    const server = partitioner.serverFor(keys[i]!);
    const indices = byServer[server];
    if (indices === undefined) {
      throw new RangeError(`groupByServer: ${partitioner.scheme} partitioner returned server ${server} of ${partitioner.serverCount}`);
    }
    indices.push(i);
  }
  return byServer;
}
