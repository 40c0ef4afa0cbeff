import { deferred } from './deferred.js';
import type { PeerRecord } from './socket-protocol.js';

/**
 * Rank 0's side of a rendezvous at a root address: the records the other ranks send in their
 * hellos (and its own), and the address table once every rank has joined.
 */
export class RootJoins {
  private readonly records: Array<PeerRecord | undefined>;
  private count = 0;
  private readonly complete = deferred<PeerRecord[]>();

  constructor(size: number) {
    this.records = new Array<PeerRecord | undefined>(size).fill(undefined);
  }

  /** Resolves to the table, by rank, once every rank has joined. */
  get table(): Promise<PeerRecord[]> {
    return this.complete.promise;
  }

  /** Records a rank's entry; a second one for the same rank is ignored. */
  join(record: PeerRecord): void {
    if (this.records[record.rank] !== undefined) return;
    this.records[record.rank] = record;
    if (++this.count === this.records.length) this.complete.resolve(this.records as PeerRecord[]);
  }

  /** The ranks not joined yet. */
  missing(): number[] {
    return this.records.flatMap((record, rank) => (record === undefined ? [rank] : []));
  }
}
