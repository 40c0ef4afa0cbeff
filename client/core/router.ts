import type { KeyRangeWire } from '../../core/protocol/messages.js';
import { SlicePartitioner } from '../../partition/mdhim-slices.js';
import { createPartitioner, groupByServer, type KeyBound, type Partitioner } from '../../partition/partitioner.js';
import type { GroupFile } from '../../core/group-file.js';
import { serversInOrder, serversOfRange } from './range-routing.js';

/**
 * The client's one answer to "which server(s)": the owner of a key, the owners of a batch's keys,
 * the servers of a range (in key order when the partitioning allows). Every client path asks
 * here rather than the partitioner, so what routing may grow (a retry budget for a redirect from
 * a server on a newer partition epoch) has one home. A global secondary index routes its
 * entries by a router of its own over the index's partition spec (client/index-layout.ts).
 */
export class Router implements Partitioner {
  readonly scheme: string;
  readonly serverCount: number;
  /** Every server's rank (0 .. serverCount - 1, as in a group file): what a call that asks all of them visits. */
  readonly ranks: readonly number[];
  readonly #partitioner: Partitioner;

  /** Routes by `partitioner` over servers 0 .. serverCount - 1. */
  constructor(partitioner: Partitioner) {
    this.#partitioner = partitioner;
    this.scheme = partitioner.scheme;
    this.serverCount = partitioner.serverCount;
    this.ranks = Array.from({ length: partitioner.serverCount }, (_, rank) => rank);
  }

  /** Routes the group's keys by its partition spec over its servers. */
  static forGroup(group: GroupFile): Router {
    return new Router(createPartitioner(group.partition, group.servers.length));
  }

  /** Rank of the server that owns an encoded key (every single-key call's path: no allocation). */
  serverFor(key: Uint8Array): number {
    return this.#partitioner.serverFor(key);
  }

  /** The Partitioner contract: the servers of a range in key order, or undefined when they interleave. */
  serversInOrder(lo?: KeyBound, hi?: KeyBound): number[] | undefined {
    return this.#partitioner.serversInOrder?.(lo, hi);
  }

  /** Entry `s` lists, in the caller's order, the indices of the keys server `s` owns (partition/partitioner.ts). */
  byServer(keys: readonly Uint8Array[]): number[][] {
    return groupByServer(this.#partitioner, keys);
  }

  /**
   * The servers holding keys of `range` in scan order (descending when `reverse`), when the
   * partitioning keeps each server's keys contiguous; undefined when they interleave.
   */
  rangeInOrder(range: KeyRangeWire, reverse: boolean): number[] | undefined {
    return serversInOrder(this.#partitioner, range, reverse);
  }

  /** The servers that may hold keys of a range: those of its part of a range table, or all. */
  rangeServers(range: KeyRangeWire): number[] {
    return serversOfRange(this.#partitioner, range);
  }

  /** The MDHIM slices of the group, or undefined when it is partitioned by another scheme. */
  slices(): SlicePartitioner | undefined {
    return this.#partitioner instanceof SlicePartitioner ? this.#partitioner : undefined;
  }
}
