import type { PartitionSpec } from '../core/group-file.js';
import { HashRing } from './hash-ring.js';

/**
 * What every partition scheme gives the client and the servers: the owner of a key. It is pure
 * (no I/O) and deterministic, so every client and server that builds one from the same group file
 * routes every key the same way.
 */
export interface Partitioner {
  /** The scheme's name as written in the group file (`'hash'`, ...). */
  readonly scheme: string;
  /** Servers are numbered 0..serverCount-1 (their ranks in the group file). */
  readonly serverCount: number;
  /** Rank of the server that owns `key`. */
  serverFor(key: Uint8Array): number;
}

/** The partitioner a group file's partition spec describes, for a group of `serverCount` servers. */
export function createPartitioner(spec: PartitionSpec, serverCount: number): Partitioner {
  switch (spec.scheme) {
    case 'hash':
      return new HashRing(serverCount, spec.virtualNodes, spec.seed);
    default: {
      // Unreachable while the types hold; specs from untyped sources still get a clear error.
      const unknown: never = spec.scheme;
      throw new TypeError(`createPartitioner: unknown partition scheme ${String(unknown)}`);
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
