import { ErrorCodes, HpckvError } from '../errors.js';
import type { MessageHandler, PeerLostHandler } from './endpoint.js';
import { EndpointEvents } from './endpoint-events.js';

/**
 * What the sockets and MPI backends share (socket-endpoint.ts, mpi-endpoint.ts): the world's
 * ranks, the handler bookkeeping, the checks of a send's destination and the loss a peer's
 * goodbye reports. A backend extends it and implements the rest of Endpoint.
 */
export abstract class WorldEndpoint {
  readonly worldRank: number;
  readonly worldSize: number;
  protected readonly events = new EndpointEvents();

  protected constructor(worldRank: number, worldSize: number) {
    this.worldRank = worldRank;
    this.worldSize = worldSize;
  }

  onMessage(handler: MessageHandler): void {
    this.events.setMessageHandler(handler);
  }

  onPeerLost(handler: PeerLostHandler): void {
    this.events.setPeerLostHandler(handler);
  }

  /** Before a send: a TypeError when `dest` is no rank of the world, the loss error when that peer is gone. */
  protected checkDestination(dest: number): void {
    if (!Number.isInteger(dest) || dest < 0 || dest >= this.worldSize) {
      throw new TypeError(`dest must be a world rank in 0..${this.worldSize - 1}, got ${String(dest)}`);
    }
    const lost = this.events.lostError(dest);
    if (lost !== undefined) throw lost;
  }

  /** The loss reported for a peer that said goodbye; `who` names it ("rank 3", or with its pid and host). */
  protected closedError(rank: number, who: string): HpckvError {
    return new HpckvError(ErrorCodes.COMM, `${who} closed its communicator`, { details: { worldRank: rank } });
  }
}
