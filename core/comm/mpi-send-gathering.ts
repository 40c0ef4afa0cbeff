import type { HpckvError } from '../errors.js';
import { BATCH_TAG, DATA_TAG } from './mpi-protocol.js';

/**
 * Bytes of messages to one peer gathered into one MPI message (see send) before it leaves without
 * waiting for the end of the turn. Measured on a stream of 4 KiB messages sent in one turn: 8.5-13
 * µs a message gathered, 18-22 µs with one MPI message each (MPI's per-message matching and
 * progress, and a rendezvous above Open MPI's 4 KiB shared-memory eager limit, paid for each);
 * 256 KiB gathered measured no better than 64 KiB.
 */
const BATCH_BYTES_MAX = 64 * 1024;

interface Gathered {
  frames: Buffer[];
  bytes: number;
}

/**
 * How an mpi endpoint's messages leave, per peer and event-loop turn: the first message to a peer
 * in a turn leaves at once (DATA_TAG), so a lone message waits for nothing; the ones that follow it
 * in the same turn are gathered and leave as one MPI message (BATCH_TAG) at the end of the turn
 * or once BATCH_BYTES_MAX have gathered.
 */
export class MpiSendGathering {
  private readonly isend: (dest: number, tag: number, payload: Buffer) => void;
  private readonly onFlushError: (error: HpckvError) => void;
  /** Per peer that had a message this turn: the messages sent to it since, to leave together. */
  private readonly gathering = new Map<number, Gathered>();
  private flushScheduled = false;

  /**
   * `isend` hands one MPI message to MPI (throwing HpckvError when it fails); `onFlushError` gets
   * a failure at the end of the turn, when no send is left to reject.
   */
  constructor(isend: (dest: number, tag: number, payload: Buffer) => void, onFlushError: (error: HpckvError) => void) {
    this.isend = isend;
    this.onFlushError = onFlushError;
  }

  /** Sends or gathers `payload` (one encoded message) for `dest`; throws when a send to MPI fails. */
  send(dest: number, payload: Buffer): void {
    const gathered = this.gathering.get(dest);
    if (gathered === undefined) {
      this.isend(dest, DATA_TAG, payload);
      this.gathering.set(dest, { frames: [], bytes: 0 });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushAll);
      }
    } else {
      gathered.frames.push(payload);
      gathered.bytes += payload.length;
      if (gathered.bytes >= BATCH_BYTES_MAX) this.flush(dest, gathered);
    }
  }

  /** End of the turn: every gathered batch leaves; the next message to each peer leaves at once again. */
  readonly flushAll = (): void => {
    this.flushScheduled = false;
    try {
      for (const [dest, gathered] of this.gathering) this.flush(dest, gathered);
    } catch (error) {
      // No caller to reject here (their sends resolved when the messages were gathered).
      this.onFlushError(error as HpckvError);
    }
    this.gathering.clear();
  };

  private flush(dest: number, gathered: Gathered): void {
    const { frames } = gathered;
    if (frames.length === 1) this.isend(dest, DATA_TAG, frames[0]!);
    else if (frames.length > 1) this.isend(dest, BATCH_TAG, Buffer.concat(frames, gathered.bytes));
    gathered.frames = [];
    gathered.bytes = 0;
  }
}
