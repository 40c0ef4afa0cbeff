import type { HpckvError } from '../errors.js';
import { FrameChannel } from '../rpc/frame-channel.js';
import type { Link } from '../rpc/link.js';
import { BYE_FRAME } from './socket-protocol.js';

/**
 * One connection of a socket endpoint, from its first byte: the frame channel over it, the peer
 * rank once a hello (or the dial) names it, and whether the handshake is through; and how an
 * endpoint ends all of its connections (endConnections).
 */
export class SocketConnection {
  readonly channel: FrameChannel;
  rank: number | undefined;
  /** True once both hello and welcome are through: the pair's messages flow on it. */
  established = false;
  /** Why this side cut the connection, when the peer broke the protocol: the cause of the loss. */
  protocolError: HpckvError | undefined;
  /** Resolves once the connection has closed, however it ended. */
  readonly closed: Promise<void>;

  constructor(link: Link, frameBytesMax: number, handlers: { onMessage(message: unknown): void; onClose(error?: Error): void }) {
    let markClosed!: () => void;
    this.closed = new Promise<void>((resolve) => { markClosed = resolve; });
    this.channel = new FrameChannel(link, frameBytesMax, {
      onMessage: (message) => handlers.onMessage(message),
      onProtocolError: (error) => this.reject(error),
      onClose: (error) => {
        markClosed();
        handlers.onClose(error);
      },
    });
  }

  /** Cuts the connection of a peer that broke the protocol; `error` becomes the cause of its loss. */
  reject(error: HpckvError): void {
    this.protocolError = error;
    this.channel.destroy();
  }
}

/** How long close() lets peers acknowledge the end of each connection before cutting it. */
const CLOSE_GRACE_MS = 2000;

/**
 * Ends `connections` and resolves once every one has closed. Graceful: an established one gets a
 * goodbye after what is queued, then its end; otherwise (and any connection not through its
 * handshake) it is cut.
 */
export async function endConnections(connections: ReadonlySet<SocketConnection>, graceful: boolean): Promise<void> {
  for (const connection of connections) {
    if (graceful && connection.established) {
      connection.channel.send(BYE_FRAME);
      connection.channel.end();
    } else {
      connection.channel.destroy();
    }
  }
  // A peer that is alive but stopped (not reading) must not hold close() forever.
  const grace = setTimeout(() => { for (const connection of connections) connection.channel.destroy(); }, CLOSE_GRACE_MS);
  await Promise.all([...connections].map((connection) => connection.closed));
  clearTimeout(grace);
}
