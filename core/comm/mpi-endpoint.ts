import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { MpiAddon, MpiAddonLoad, MpiInitInfo } from 'hpckv-mpi';
import { ErrorCodes, HpckvError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { decodeMessage, decodeMessages, encodeMessage } from '../wire/message-codec.js';
import type { Endpoint, MessageHandler, PeerLostHandler } from './endpoint.js';
import { EndpointEvents } from './endpoint-events.js';
import { isDataFrame } from './socket-protocol.js';

/**
 * The native MPI backend, over the in-repo addon (packages/hpckv-mpi). Every rank of an
 * `mpirun`/`srun` job is one endpoint; MPI gives rank and size, so there is no rendezvous.
 *
 * Messages: a message is the msgpack of [context, tag, data] (the sockets backend's data frame),
 * sent with MPI_Isend on a duplicate of MPI_COMM_WORLD; the Buffer is held by the addon until the
 * send completes. The first message to a peer in an event-loop turn leaves at once (DATA_TAG), so
 * a lone message waits for nothing; the ones that follow it in the same turn are gathered and
 * leave as one MPI message (BATCH_TAG, their encodings back to back) at the end of the turn or
 * once BATCH_BYTES_MAX have gathered, as the sockets backend batches its frames into one write.
 * Closing sends BYE_TAG (empty) to every peer. MPI keeps the order of two messages from one
 * source that match the same receive, and every receive here matches any source and tag, so
 * per-pair order is send order and a BYE comes after everything its sender sent before it.
 *
 * Receiving: JavaScript polls the addon from the event loop (MPI_Improbe + MPI_Mrecv, a batch
 * per call), never blocking it. Polling adapts: while traffic flows (a message arrived or a send
 * was pending within the last `pollSpinMs`, 10 ms), the next poll runs from setImmediate, so a
 * ping-pong costs tens of µs and timers and I/O still run between polls; once idle, polls back
 * off exponentially with setTimeout from 1 ms to `pollIdleMsMax` (4 ms), so an idle rank does not
 * burn a core (the first message after an idle spell waits up to pollIdleMsMax). A send wakes the
 * poller at once. The spin window outlasts the longest sleep, so an exchange that starts with an
 * idle peer is back to spinning speed after its first answer. In the prototype, a progress
 * thread handing messages over with a threadsafe function measured slower (about 21 µs a round
 * trip against 6 µs polled from JavaScript) and still spun a core, so there is none.
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
/**
 * Bytes of messages to one peer gathered into one MPI message (see send) before it leaves without
 * waiting for the end of the turn. Measured on a stream of 4 KiB messages sent in one turn: 8.5-13
 * µs a message gathered, 18-22 µs with one MPI message each (MPI's per-message matching and
 * progress, and a rendezvous above Open MPI's 4 KiB shared-memory eager limit, paid for each);
 * 256 KiB gathered measured no better than 64 KiB.
 */
const BATCH_BYTES_MAX = 64 * 1024;
/** One message: the msgpack of [context, tag, data]. */
const DATA_TAG = 1;
const BYE_TAG = 2;
/** Several messages to one peer, their encodings one after another. */
const BATCH_TAG = 3;
const EMPTY = Buffer.alloc(0);

const require = createRequire(import.meta.url);

/**
 * The addon, or why it cannot be had. Never throws; the package is loaded on first use, so a
 * process that never asks for MPI never loads libmpi.
 */
export function loadMpi(): MpiAddonLoad {
  try {
    return (require('hpckv-mpi') as { loadMpiAddon: () => MpiAddonLoad }).loadMpiAddon();
  } catch (cause) {
    return { available: false, reason: `the hpckv-mpi package cannot be loaded (${(cause as Error).message})` };
  }
}

/** Why the mpi backend cannot be used in this process, or undefined if it can. */
export function mpiUnavailableReason(): string | undefined {
  const load = loadMpi();
  return load.available ? undefined : load.reason;
}

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

export class MpiEndpoint implements Endpoint {
  readonly worldRank: number;
  readonly worldSize: number;
  /** What MPI_Init_thread provided (hpckv asks for MPI_THREAD_MULTIPLE) and which MPI this is. */
  readonly info: MpiInitInfo;
  private readonly addon: MpiAddon;
  private readonly frameBytesMax: number;
  private readonly pollSpinMs: number;
  private readonly pollIdleMsMax: number;
  private readonly events = new EndpointEvents();
  private readonly byeFrom = new Set<number>();
  /** Per peer that had a message this turn: the messages sent to it since, to leave together. */
  private readonly gathering = new Map<number, { frames: Buffer[]; bytes: number }>();
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastTrafficMs = performance.now();
  private idleDelayMs = 0;
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
    this.addon = addon;
    this.info = info;
    this.worldRank = info.rank;
    this.worldSize = info.size;
    this.frameBytesMax = options.frameBytesMax;
    this.pollSpinMs = options.pollSpinMs;
    this.pollIdleMsMax = options.pollIdleMsMax;
    this.immediate = setImmediate(this.poll);
  }

  async send(dest: number, context: string, tag: number, data: unknown): Promise<void> {
    if (this.closing !== undefined) throw new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}'s mpi endpoint is closed`);
    if (this.failure !== undefined) throw this.failure;
    if (!Number.isInteger(dest) || dest < 0 || dest >= this.worldSize) {
      throw new TypeError(`dest must be a world rank in 0..${this.worldSize - 1}, got ${String(dest)}`);
    }
    const lost = this.events.lostError(dest);
    if (lost !== undefined) throw lost;
    const payload = encodeMessage([context, tag, data]);
    if (payload.length > this.frameBytesMax) {
      throw new HpckvError(ErrorCodes.FRAME_TOO_LARGE, `message of ${payload.length} bytes exceeds frameBytesMax ${this.frameBytesMax}`,
        { details: { limit: 'frameBytesMax', frameBytes: payload.length, max: this.frameBytesMax } });
    }
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
    this.wake();
  }

  /** End of the turn: every gathered batch leaves; the next message to each peer leaves at once again. */
  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    try {
      for (const [dest, gathered] of this.gathering) this.flush(dest, gathered);
    } catch (error) {
      // No caller to reject here (their sends resolved when the messages were gathered).
      this.fail(error as HpckvError);
    }
    this.gathering.clear();
  };

  private flush(dest: number, gathered: { frames: Buffer[]; bytes: number }): void {
    const { frames } = gathered;
    if (frames.length === 1) this.isend(dest, DATA_TAG, frames[0]!);
    else if (frames.length > 1) this.isend(dest, BATCH_TAG, Buffer.concat(frames, gathered.bytes));
    gathered.frames = [];
    gathered.bytes = 0;
  }

  onMessage(handler: MessageHandler): void {
    this.events.setMessageHandler(handler);
  }

  onPeerLost(handler: PeerLostHandler): void {
    this.events.setPeerLostHandler(handler);
  }

  /** Collective: drain, barrier, finalize; resolves once every rank has closed. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.failure === undefined) {
      this.flushAll();
      for (let rank = 0; rank < this.worldSize; rank++) if (rank !== this.worldRank) this.isend(rank, BYE_TAG, EMPTY);
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        this.wake();
      });
    }
    this.stopPolling();
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
    this.timer = undefined;
    this.immediate = undefined;
    let batch: Array<number | Buffer>;
    try {
      batch = this.addon.poll(POLL_BATCH_MESSAGES);
    } catch (cause) {
      this.fail(new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}: MPI receive failed: ${(cause as Error).message}`, { cause }));
      return;
    }
    const now = performance.now();
    if (batch.length > 0 || this.addon.pendingSends() > 0) {
      this.lastTrafficMs = now;
      this.idleDelayMs = 0;
    }
    if (this.drained === undefined) {
      // Scheduled before the handlers run, so a handler that throws does not stop the polling.
      this.schedule(now);
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
    this.schedule(now);
  };

  private schedule(now: number): void {
    if (now - this.lastTrafficMs < this.pollSpinMs) {
      this.immediate = setImmediate(this.poll);
      return;
    }
    this.idleDelayMs = Math.min(this.pollIdleMsMax, Math.max(1, this.idleDelayMs * 2));
    this.timer = setTimeout(this.poll, this.idleDelayMs);
  }

  /** Traffic from this side: poll from setImmediate again, at once if the poller was backing off. */
  private wake(): void {
    this.lastTrafficMs = performance.now();
    this.idleDelayMs = 0;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(this.poll);
    }
  }

  private stopPolling(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private receive(source: number, mpiTag: number, payload: Buffer): void {
    if (mpiTag === BYE_TAG) {
      this.byeFrom.add(source);
      if (this.closing === undefined) {
        this.events.peerLost(source, new HpckvError(ErrorCodes.COMM, `rank ${source} closed its communicator`,
          { details: { worldRank: source } }), 'closed');
      }
      return;
    }
    // After close, nobody is listening any more: messages still arriving are dropped.
    if (this.closing !== undefined) return;
    let frames: unknown[] | undefined;
    try {
      if (mpiTag === DATA_TAG) frames = [decodeMessage(payload)];
      else if (mpiTag === BATCH_TAG) frames = decodeMessages(payload);
    } catch {
      frames = undefined;
    }
    if (frames === undefined || !frames.every(isDataFrame)) {
      this.events.peerLost(source, new HpckvError(ErrorCodes.PROTOCOL, `rank ${source} sent a malformed MPI message (tag ${mpiTag})`,
        { details: { worldRank: source } }), 'failed');
      return;
    }
    for (const frame of frames) this.events.message(source, frame[0], frame[1], frame[2]);
  }

  /** MPI itself failed: every later send and the close reject with the error; polling stops. */
  private fail(error: HpckvError): void {
    this.failure ??= error;
    this.stopPolling();
    for (let rank = 0; rank < this.worldSize; rank++) if (rank !== this.worldRank) this.events.peerLost(rank, error, 'failed');
    this.drained?.();
  }
}
