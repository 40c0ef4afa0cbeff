import { ErrorCodes, HpckvError } from '../errors.js';
import { decodeMessage, encodeMessage } from '../wire/message-codec.js';
import type { Communicator } from './communicator.js';
import type { Endpoint, MessageHandler, PeerLostHandler } from './endpoint.js';
import { EndpointEvents } from './endpoint-events.js';
import { GroupCommunicator } from './group-communicator.js';

/**
 * The in-process backend: every rank of a world lives in this process. Messages are encoded
 * with msgpack at send time and decoded at delivery, so data is copied and typed exactly as over
 * a socket (bytes stay bytes, bigint stays bigint, a later change to the sent object is not seen).
 * Delivery runs from setImmediate, in FIFO order: never re-entrant, per-pair order is kept, and
 * ping-pong between ranks still lets timers and I/O run.
 */

class InprocEndpoint implements Endpoint {
  readonly worldRank: number;
  readonly worldSize: number;
  private readonly world: readonly InprocEndpoint[];
  private readonly events = new EndpointEvents();
  private closed = false;

  /** `world` is filled by the caller once every endpoint exists. */
  constructor(world: readonly InprocEndpoint[], rank: number, size: number) {
    this.world = world;
    this.worldRank = rank;
    this.worldSize = size;
  }

  async send(dest: number, context: string, tag: number, data: unknown): Promise<void> {
    if (this.closed) throw new HpckvError(ErrorCodes.COMM, `in-process rank ${this.worldRank} is closed`);
    const peer = this.world[dest];
    if (peer === undefined) throw new TypeError(`dest must be a world rank in 0..${this.worldSize - 1}, got ${dest}`);
    const lost = this.events.lostError(dest);
    if (lost !== undefined) throw lost;
    const payload = encodeMessage(data);
    const source = this.worldRank;
    setImmediate(() => peer.deliver(source, context, tag, payload));
  }

  onMessage(handler: MessageHandler): void {
    this.events.setMessageHandler(handler);
  }

  onPeerLost(handler: PeerLostHandler): void {
    this.events.setPeerLostHandler(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const rank = this.worldRank;
    // Queued behind this rank's messages already in flight, so peers receive those first.
    for (const peer of this.world) {
      if (peer !== this) setImmediate(() => peer.peerClosed(rank));
    }
  }

  private deliver(source: number, context: string, tag: number, payload: Buffer): void {
    if (this.closed) return;
    this.events.message(source, context, tag, decodeMessage(payload));
  }

  private peerClosed(rank: number): void {
    if (this.closed) return;
    this.events.peerLost(rank, new HpckvError(ErrorCodes.COMM, `in-process rank ${rank} closed`, { details: { worldRank: rank } }), 'closed');
  }
}

/** A world of `size` ranks in this process; element r is rank r's world communicator. */
export function createInprocWorld(size: number): Communicator[] {
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`world size must be a positive integer, got ${String(size)}`);
  const world: InprocEndpoint[] = [];
  for (let rank = 0; rank < size; rank++) world.push(new InprocEndpoint(world, rank, size));
  return world.map((endpoint) => GroupCommunicator.world(endpoint));
}
