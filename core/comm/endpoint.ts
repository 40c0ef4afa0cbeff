import type { HpckvError } from '../errors.js';

/**
 * The backend seam under the communicator: world-level point-to-point delivery of tagged
 * messages, each labelled with the context (communicator) it belongs to. Matching, ordering
 * rules and collectives live above it, in GroupCommunicator, so a backend (in-process, sockets,
 * native MPI) only moves messages.
 *
 * A backend must deliver the messages from one source to one destination in send order, never
 * call a handler synchronously from inside `send`, and report each peer it loses exactly once.
 */

export type MessageHandler = (source: number, context: string, tag: number, data: unknown) => void;
/**
 * How a peer went: 'closed' when it said goodbye (it closed its endpoint, so it sends nothing
 * more but was not in the middle of anything), 'failed' when its connection broke or it exited
 * without closing (it may have left collectives half done).
 */
export type PeerDeparture = 'closed' | 'failed';
export type PeerLostHandler = (worldRank: number, error: HpckvError, departure: PeerDeparture) => void;

export interface Endpoint {
  readonly worldRank: number;
  readonly worldSize: number;
  /** Resolves once the message is queued for delivery; rejects with HPCKV_ERR_COMM if `dest` is lost or this is closed. */
  send(dest: number, context: string, tag: number, data: unknown): Promise<void>;
  /** One handler; messages that arrive before it is set are held and handed to it when it is. */
  onMessage(handler: MessageHandler): void;
  /**
   * Called once per peer that closed or was lost; peers gone before the handler is set are
   * reported when it is. Messages the peer sent before it went are delivered first.
   */
  onPeerLost(handler: PeerLostHandler): void;
  close(): Promise<void>;
}
