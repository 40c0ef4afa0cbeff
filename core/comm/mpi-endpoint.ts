import { performance } from 'node:perf_hooks';
import { ErrorCodes, HpckvError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { Endpoint } from './endpoint.js';
import { loadMpi, type MpiAddon, type MpiInitInfo } from './mpi-addon.js';
import { MpiPoller } from './mpi-poller.js';
import { BYE_TAG, decodeDataFrames, encodeDataFrame } from './mpi-protocol.js';
import { MpiSendGathering } from './mpi-send-gathering.js';
import { WorldEndpoint } from './world-endpoint.js';

/**
 * The native MPI backend, over the in-repo addon (packages/hpckv-mpi). Every rank of an
 * `mpirun`/`srun` job is one endpoint; MPI gives rank and size, so there is no rendezvous.
 *
 * Messages: a message is the msgpack of [context, tag, data] (the sockets backend's data frame),
 * sent with MPI_Isend on a duplicate of MPI_COMM_WORLD; the Buffer is held by the addon until the
 * send completes. The first message to a peer in an event-loop turn leaves at once (DATA_TAG), so
 * a lone message waits for nothing; the ones that follow it in the same turn are gathered and
 * leave as one MPI message (BATCH_TAG, their encodings back to back) at the end of the turn or
 * once BATCH_BYTES_MAX have gathered, as the sockets backend batches its frames into one write
 * (mpi-send-gathering.ts; the tags: mpi-protocol.ts). Closing sends BYE_TAG (empty) to every
 * peer. MPI keeps the order of two messages from one source that match the same receive, and
 * every receive here matches any source and tag, so per-pair order is send order and a BYE comes
 * after everything its sender sent before it.
 *
 * Receiving: JavaScript polls the addon from the event loop (MPI_Improbe + MPI_Mrecv, a batch
 * per call), never blocking it. Polling adapts (mpi-poller.ts): while traffic flows (a message
 * arrived or a send was pending within the last `pollSpinMs`, 10 ms), the next poll runs from
 * setImmediate, so a ping-pong costs tens of µs and timers and I/O still run between polls; once
 * idle, polls back off exponentially with setTimeout from 1 ms to `pollIdleMsMax` (4 ms), so an
 * idle rank does not burn a core (the first message after an idle spell waits up to
 * pollIdleMsMax). A send wakes the poller at once. The spin window outlasts the longest sleep, so
 * an exchange that starts with an idle peer is back to spinning speed after its first answer. In
 * the prototype, a progress thread handing messages over with a threadsafe function measured
 * slower (about 21 µs a round trip against 6 µs polled from JavaScript) and still spun a core, so
 * there is none.
 *
 * Collectives are GroupCommunicator's (binomial trees and a dissemination barrier over these
 * point-to-point messages), the same code as on every other backend.
 *
 * Shutdown (close): BYE to every peer, keep polling until every peer's BYE has arrived and every
 * send is complete (the drain), then MPI_Barrier and MPI_Finalize. So close() is collective, like
 * MPI_Finalize: it resolves once every rank has closed. MPI allows one world per process: after
 * close no mpi endpoint can be opened again in that process.
 *
 * While open, the endpoint's polling keeps the process alive (as the sockets backend's listening
 * socket does): a rank ends by closing its world communicator.
 *
 * Peer loss: a peer that closes is reported once, as 'closed', when its BYE arrives. A rank that
 * dies is not reported: mpirun ends the whole job when one rank exits abnormally. A process that
 * exits without closing calls MPI_Abort (the addon's atexit guard), so the job ends instead of
 * the other ranks waiting for it.
 */

export interface MpiEndpointOptions {
  /** Largest message (encoded [context, tag, data]) in bytes; default DEFAULT_LIMITS.frameBytesMax. */
  frameBytesMax?: number;
  /**
   * Keep polling from setImmediate for this long after the last traffic, in milliseconds. Must
   * exceed pollIdleMsMax (HPCKV_ERR_BAD_CONFIG otherwise): a rank that sends to an idle peer must
   * still be spinning when the answer comes, after the peer's longest sleep. With a window shorter
   * than the sleep, a ping-pong measured 14 ms a round trip (each side always asleep when the other
   * answered) instead of about 60 µs.
   */
  pollSpinMs?: number;
  /** Longest wait between two polls of an idle rank, in milliseconds. */
  pollIdleMsMax?: number;
}

/** Default of MpiEndpointOptions.pollSpinMs: milliseconds of spinning after the last traffic. */
export const MPI_POLL_SPIN_MS = 10;
/** Default of MpiEndpointOptions.pollIdleMsMax: milliseconds between the polls of an idle rank, at most. */
export const MPI_POLL_IDLE_MS_MAX = 4;
/** Messages taken from MPI in one poll before the event loop gets a turn. */
const POLL_BATCH_MESSAGES = 64;
/** The payload of a BYE. */
const EMPTY = Buffer.alloc(0);

let opened: MpiEndpoint | undefined;

/** MPI's answer at init (thread level provided, library) for this process's mpi world, if one was opened. */
export function mpiWorldInfo(): MpiInitInfo | undefined {
  return opened?.info;
}

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

export class MpiEndpoint extends WorldEndpoint implements Endpoint {
  /** What MPI_Init_thread provided (hpckv asks for MPI_THREAD_MULTIPLE) and which MPI this is. */
  readonly info: MpiInitInfo;
  private readonly addon: MpiAddon;
  private readonly frameBytesMax: number;
  private readonly byeFrom = new Set<number>();
  private readonly outgoing: MpiSendGathering;
  private readonly poller: MpiPoller;
  private closing: Promise<void> | undefined;
  /** Set while close() waits for the drain. */
  private drained: (() => void) | undefined;
  private failure: HpckvError | undefined;

  /**
   * Initializes MPI (MPI_Init_thread) and starts polling. HPCKV_ERR_BAD_CONFIG when the addon is
   * unavailable (with the reason) or MPI was already initialized in this process; HPCKV_ERR_COMM
   * when MPI fails to start.
   */
  static open(options: MpiEndpointOptions = {}): MpiEndpoint {
    const load = loadMpi();
    if (!load.available) throw new HpckvError(ErrorCodes.BAD_CONFIG, `native MPI backend unavailable: ${load.reason}`);
    const { addon } = load;
    const state = addon.state();
    if (state !== 'uninitialized') {
      throw new HpckvError(ErrorCodes.BAD_CONFIG, state === 'active'
        ? 'an mpi communicator is already open in this process (MPI has one world per process)'
        : 'MPI was finalized in this process: an mpi communicator cannot be opened again');
    }
    const frameBytesMax = positiveOption('frameBytesMax', options.frameBytesMax, DEFAULT_LIMITS.frameBytesMax);
    const pollSpinMs = positiveOption('pollSpinMs', options.pollSpinMs, MPI_POLL_SPIN_MS);
    const pollIdleMsMax = positiveOption('pollIdleMsMax', options.pollIdleMsMax, MPI_POLL_IDLE_MS_MAX);
    if (pollSpinMs <= pollIdleMsMax) {
      throw new HpckvError(ErrorCodes.BAD_CONFIG, `pollSpinMs (${pollSpinMs}) must exceed pollIdleMsMax (${pollIdleMsMax})`);
    }
    let info: MpiInitInfo;
    try {
      info = addon.init();
    } catch (cause) {
      throw new HpckvError(ErrorCodes.COMM, `MPI failed to start: ${(cause as Error).message}`, { cause });
    }
    opened = new MpiEndpoint(addon, info, { frameBytesMax, pollSpinMs, pollIdleMsMax });
    return opened;
  }

  private constructor(addon: MpiAddon, info: MpiInitInfo, options: Required<MpiEndpointOptions>) {
    super(info.rank, info.size);
    this.addon = addon;
    this.info = info;
    this.frameBytesMax = options.frameBytesMax;
    this.outgoing = new MpiSendGathering((dest, tag, payload) => this.isend(dest, tag, payload), (error) => this.fail(error));
    this.poller = new MpiPoller(this.poll, options.pollSpinMs, options.pollIdleMsMax);
    this.poller.start();
  }

  async send(dest: number, context: string, tag: number, data: unknown): Promise<void> {
    if (this.closing !== undefined) throw new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}'s mpi endpoint is closed`);
    if (this.failure !== undefined) throw this.failure;
    this.checkDestination(dest);
    this.outgoing.send(dest, encodeDataFrame(context, tag, data, this.frameBytesMax));
    this.poller.wake();
  }

  /** Collective: drain, barrier, finalize; resolves once every rank has closed. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.failure === undefined) {
      this.outgoing.flushAll();
      for (let rank = 0; rank < this.worldSize; rank++) if (rank !== this.worldRank) this.isend(rank, BYE_TAG, EMPTY);
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        this.poller.wake();
      });
    }
    this.poller.stop();
    if (this.failure !== undefined) throw this.failure;
    try {
      // Everything every peer sent here has been received (its BYE came last) and every send
      // from here is complete, so the barrier waits only for ranks still draining.
      this.addon.barrier();
      this.addon.finalize();
    } catch (cause) {
      throw new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}: MPI shutdown failed: ${(cause as Error).message}`, { cause });
    }
  }

  private isend(dest: number, tag: number, payload: Buffer): void {
    try {
      this.addon.isend(dest, tag, payload);
    } catch (cause) {
      throw new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}: MPI send to rank ${dest} failed: ${(cause as Error).message}`,
        { cause, details: { worldRank: dest } });
    }
  }

  private readonly poll = (): void => {
    let batch: Array<number | Buffer>;
    try {
      batch = this.addon.poll(POLL_BATCH_MESSAGES);
    } catch (cause) {
      this.fail(new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}: MPI receive failed: ${(cause as Error).message}`, { cause }));
      return;
    }
    const now = performance.now();
    if (batch.length > 0 || this.addon.pendingSends() > 0) this.poller.sawTraffic(now);
    if (this.drained === undefined) {
      // Scheduled before the handlers run, so a handler that throws does not stop the polling.
      this.poller.schedule(now);
      for (let i = 0; i < batch.length; i += 3) this.receive(batch[i] as number, batch[i + 1] as number, batch[i + 2] as Buffer);
      return;
    }
    // Closing: no handler runs any more; only the peers' BYEs count.
    for (let i = 0; i < batch.length; i += 3) this.receive(batch[i] as number, batch[i + 1] as number, batch[i + 2] as Buffer);
    if (this.byeFrom.size === this.worldSize - 1 && this.addon.pendingSends() === 0) {
      const drained = this.drained;
      this.drained = undefined;
      drained();
      return;
    }
    this.poller.schedule(now);
  };

  private receive(source: number, mpiTag: number, payload: Buffer): void {
    if (mpiTag === BYE_TAG) {
      this.byeFrom.add(source);
      if (this.closing === undefined) this.events.peerLost(source, this.closedError(source, `rank ${source}`), 'closed');
      return;
    }
    // After close, nobody is listening any more: messages still arriving are dropped.
    if (this.closing !== undefined) return;
    const frames = decodeDataFrames(mpiTag, payload);
    if (frames === undefined) {
      this.events.peerLost(source, new HpckvError(ErrorCodes.PROTOCOL, `rank ${source} sent a malformed MPI message (tag ${mpiTag})`,
        { details: { worldRank: source } }), 'failed');
      return;
    }
    for (const frame of frames) this.events.message(source, frame[0], frame[1], frame[2]);
  }

  /** MPI itself failed: every later send and the close reject with the error; polling stops. */
  private fail(error: HpckvError): void {
    this.failure ??= error;
    this.poller.stop();
    for (let rank = 0; rank < this.worldSize; rank++) if (rank !== this.worldRank) this.events.peerLost(rank, error, 'failed');
    this.drained?.();
  }
}
