import type { HpckvError } from '../errors.js';
import type { MessageHandler, PeerDeparture, PeerLostHandler } from './endpoint.js';

/**
 * The handler bookkeeping every Endpoint needs: a backend may receive messages (or lose peers)
 * before the communicator above it has registered its handlers, e.g. while a socket world is
 * still connecting, so both are held until a handler is set and then handed over in order.
 */
export class EndpointEvents {
  private messageHandler: MessageHandler | undefined;
  private held: Array<[source: number, context: string, tag: number, data: unknown]> = [];
  private lostHandler: PeerLostHandler | undefined;
  private readonly lost = new Map<number, { error: HpckvError; departure: PeerDeparture }>();

  setMessageHandler(handler: MessageHandler): void {
    if (this.messageHandler !== undefined) throw new TypeError('endpoint message handler is already set');
    this.messageHandler = handler;
    const held = this.held;
    this.held = [];
    for (const [source, context, tag, data] of held) handler(source, context, tag, data);
  }

  setPeerLostHandler(handler: PeerLostHandler): void {
    if (this.lostHandler !== undefined) throw new TypeError('endpoint peer-lost handler is already set');
    this.lostHandler = handler;
    for (const [rank, { error, departure }] of this.lost) handler(rank, error, departure);
  }

  message(source: number, context: string, tag: number, data: unknown): void {
    if (this.messageHandler === undefined) this.held.push([source, context, tag, data]);
    else this.messageHandler(source, context, tag, data);
  }

  /** Records the loss once; later reports of the same peer are ignored. */
  peerLost(rank: number, error: HpckvError, departure: PeerDeparture): void {
    if (this.lost.has(rank)) return;
    this.lost.set(rank, { error, departure });
    this.lostHandler?.(rank, error, departure);
  }

  lostError(rank: number): HpckvError | undefined {
    return this.lost.get(rank)?.error;
  }
}
