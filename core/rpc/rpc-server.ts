import { ErrorCodes, HpckvError, errorToWire } from '../errors.js';
import type { Limits } from '../limits.js';
import { FrameChannel } from './frame-channel.js';
import type { Link } from './link.js';
import {
  AUTH_CHALLENGE_OP, AUTH_PROVE_OP, AUTH_SCHEME, checkAuthSecret, clientProof, isNonce, newNonce, proofMatches, serverProof,
  unauthenticated, type AuthChallengeReply, type AuthProveReply,
} from './auth-handshake.js';
import { PeerCalls } from './peer-calls.js';
import { CONNECTION_ERROR_ID, MessageKind } from './rpc-messages.js';
import { listen, type Listener } from './transport.js';

export interface RpcRequestContext {
  /** Server-unique id of the connection the request came on. */
  connectionId: number;
  remote: string;
}

/** Answers one request: a value (same turn) or a promise; a throw becomes a typed failure reply. */
export type RpcHandler = (op: string, body: unknown, context: RpcRequestContext) => unknown;

export interface RpcServerOptions {
  /**
   * The group's shared secret: every connection must prove it (core/rpc/auth-handshake.ts)
   * before any request runs. Without it, connections are served from their first request.
   */
  authSecret?: Uint8Array;
  /** A connection's replies passed replyBacklogBytesMax and the server stopped reading it. */
  onReadPaused?: (connectionId: number) => void;
  /** A connection closed (its back-channel calls have failed with HPCKV_ERR_CONNECTION_CLOSED). */
  onConnectionClose?: (connectionId: number) => void;
}

interface Connection {
  id: number;
  channel: FrameChannel;
  inFlight: number;
  /** Requests this server sent to the client over its connection (the back channel). */
  peerCalls: PeerCalls;
  /** False until the connection proved the group's secret (always true in a group without one). */
  authenticated: boolean;
  /** The nonce this server sent in answer to authChallenge; one challenge per connection. */
  serverNonce: Buffer | undefined;
  /** Closes the connection if it has not authenticated in time. */
  authTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The answering side: accepts connections on one address, decodes requests, runs the handler
 * and sends replies. It enforces the connection and in-flight limits with typed errors, closes
 * a connection that sends bytes that are not frames (after saying why), and keeps serving
 * everyone else. `close()` drains: no new requests, in-flight ones finish, then connections close.
 */
export class RpcServer {
  private readonly limits: Limits;
  private readonly handler: RpcHandler;
  private listener: Listener | undefined;
  private readonly connections = new Map<number, Connection>();
  private nextConnectionId = 1;
  private inFlightTotal = 0;
  private draining = false;
  private drainWaiters: Array<() => void> = [];
  /** Requests answered (successes and failures). */
  answered = 0;

  private readonly hooks: RpcServerOptions;
  private readonly authSecret: Buffer | undefined;

  private constructor(limits: Limits, handler: RpcHandler, hooks: RpcServerOptions) {
    this.limits = limits;
    this.handler = handler;
    this.hooks = hooks;
    this.authSecret = hooks.authSecret === undefined ? undefined : checkAuthSecret(hooks.authSecret, 'server');
  }

  static async listen(address: string, limits: Limits, handler: RpcHandler, hooks: RpcServerOptions = {}): Promise<RpcServer> {
    const server = new RpcServer(limits, handler, hooks);
    server.listener = await listen(address, (link) => server.accept(link));
    return server;
  }

  get address(): string {
    return this.listener!.address;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get inFlight(): number {
    return this.inFlightTotal;
  }

  private accept(link: Link): void {
    const id = this.nextConnectionId++;
    const connection: Connection = {
      id, channel: undefined as unknown as FrameChannel, inFlight: 0, peerCalls: new PeerCalls(),
      authenticated: this.authSecret === undefined, serverNonce: undefined, authTimer: undefined,
    };
    connection.channel = new FrameChannel(link, this.limits.frameBytesMax, {
      onMessage: (message) => this.onMessage(connection, message),
      onProtocolError: (error) => this.refuseConnection(connection, error),
      onClose: () => {
        clearTimeout(connection.authTimer);
        this.connections.delete(id);
        connection.peerCalls.failAll(new HpckvError(ErrorCodes.CONNECTION_CLOSED, `client connection ${id} closed`, { details: { connectionId: id } }));
        this.hooks.onConnectionClose?.(id);
      },
      onReadPaused: () => this.hooks.onReadPaused?.(id),
      // The last reply of a burst (the writes of one group commit) writes them all at once.
      isIdle: () => connection.inFlight === 0,
    }, this.limits.replyBacklogBytesMax);
    if (this.draining) {
      this.refuseConnection(connection, new HpckvError(ErrorCodes.SHUTTING_DOWN, 'server is shutting down'));
      return;
    }
    if (this.connections.size >= this.limits.connectionsPerServerMax) {
      this.refuseConnection(connection, new HpckvError(ErrorCodes.TOO_MANY_CONNECTIONS,
        `server has ${this.connections.size} connections, connectionsPerServerMax is ${this.limits.connectionsPerServerMax}`,
        { details: { limit: 'connectionsPerServerMax', max: this.limits.connectionsPerServerMax } }));
      return;
    }
    this.connections.set(id, connection);
    if (!connection.authenticated) {
      const timeoutMs = this.limits.authHandshakeTimeoutMs;
      connection.authTimer = setTimeout(() => this.refuseConnection(connection,
        unauthenticated(`connection did not prove the group's secret within authHandshakeTimeoutMs (${timeoutMs} ms)`)), timeoutMs);
      connection.authTimer.unref();
    }
  }

  /** Says why on the connection (id 0), then closes it. */
  private refuseConnection(connection: Connection, error: HpckvError): void {
    clearTimeout(connection.authTimer);
    connection.channel.send([MessageKind.failure, CONNECTION_ERROR_ID, errorToWire(error)]);
    connection.channel.end();
    this.connections.delete(connection.id);
  }

  /**
   * Sends a request to the client at the other end of a connection (the back channel) and
   * resolves with its reply. HPCKV_ERR_CONNECTION_CLOSED when that connection is gone or closes.
   */
  callPeer(connectionId: number, op: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const connection = this.connections.get(connectionId);
    if (connection === undefined || connection.channel.isClosed) {
      return Promise.reject(new HpckvError(ErrorCodes.CONNECTION_CLOSED, `client connection ${connectionId} is closed`,
        { details: { connectionId } }));
    }
    return connection.peerCalls.call((message) => connection.channel.send(message), op, body, timeoutMs, `client connection ${connectionId}`);
  }

  private onMessage(connection: Connection, message: unknown): void {
    // A reply from the client to one of our back-channel requests.
    if (Array.isArray(message) && (message[0] === MessageKind.success || message[0] === MessageKind.failure)
      && typeof message[1] === 'number' && message.length === 3) {
      if (!connection.peerCalls.settle(message[0], message[1], message[2])) {
        this.refuseConnection(connection, new HpckvError(ErrorCodes.PROTOCOL, `reply for unknown back-channel request id ${message[1]}`));
      }
      return;
    }
    if (!Array.isArray(message) || message[0] !== MessageKind.request
      || typeof message[1] !== 'number' || !Number.isInteger(message[1]) || message[1] <= 0) {
      this.refuseConnection(connection, new HpckvError(ErrorCodes.PROTOCOL, 'message is not an rpc request envelope [0, id, op, body]'));
      return;
    }
    const id = message[1];
    const op = message[2];
    if (typeof op !== 'string' || message.length !== 4) {
      this.reply(connection, id, new HpckvError(ErrorCodes.BAD_REQUEST, 'request needs [0, id, op: string, body]'), false);
      return;
    }
    if (!connection.authenticated) {
      this.authenticate(connection, id, op, message[3]);
      return;
    }
    if (op === AUTH_CHALLENGE_OP) {
      // A group without a secret says so; a client that holds one then refuses to go on.
      this.reply(connection, id, { required: false } satisfies AuthChallengeReply, true);
      return;
    }
    if (this.draining) {
      this.reply(connection, id, new HpckvError(ErrorCodes.SHUTTING_DOWN, 'server is shutting down'), false);
      return;
    }
    if (connection.inFlight >= this.limits.inFlightRequestsPerConnectionMax) {
      this.reply(connection, id, new HpckvError(ErrorCodes.TOO_MANY_IN_FLIGHT,
        `connection has ${connection.inFlight} requests in flight, inFlightRequestsPerConnectionMax is ${this.limits.inFlightRequestsPerConnectionMax}`,
        { details: { limit: 'inFlightRequestsPerConnectionMax', max: this.limits.inFlightRequestsPerConnectionMax } }), false);
      return;
    }
    let result: unknown;
    try {
      result = this.handler(op, message[3], { connectionId: connection.id, remote: connection.channel.remote });
    } catch (error) {
      this.reply(connection, id, error, false);
      return;
    }
    if (result instanceof Promise) {
      connection.inFlight++;
      this.inFlightTotal++;
      result.then(
        (value) => this.finish(connection, id, value, true),
        (error) => this.finish(connection, id, error, false),
      );
      return;
    }
    this.reply(connection, id, result, true);
  }

  /**
   * The handshake of core/rpc/auth-handshake.ts: one challenge, then one proof. Anything else
   * before a good proof (another op, a second challenge, a wrong proof) closes the connection
   * with HPCKV_ERR_UNAUTHENTICATED, so an unauthenticated peer never reaches the handler.
   */
  private authenticate(connection: Connection, id: number, op: string, body: unknown): void {
    const secret = this.authSecret!;
    if (op === AUTH_CHALLENGE_OP && connection.serverNonce === undefined) {
      connection.serverNonce = newNonce();
      this.reply(connection, id, { required: true, scheme: AUTH_SCHEME, nonce: connection.serverNonce } satisfies AuthChallengeReply, true);
      return;
    }
    if (op === AUTH_PROVE_OP && connection.serverNonce !== undefined) {
      const clientNonce = (body as { nonce?: unknown } | null)?.nonce;
      const proof = (body as { proof?: unknown } | null)?.proof;
      if (isNonce(clientNonce) && proofMatches(clientProof(secret, connection.serverNonce, clientNonce), proof)) {
        connection.authenticated = true;
        clearTimeout(connection.authTimer);
        this.reply(connection, id, { proof: serverProof(secret, clientNonce, connection.serverNonce) } satisfies AuthProveReply, true);
        return;
      }
      this.refuseConnection(connection, unauthenticated('the proof of the group\'s secret does not match'));
      return;
    }
    this.refuseConnection(connection, unauthenticated(op === AUTH_CHALLENGE_OP || op === AUTH_PROVE_OP
      ? `${op} out of order: the handshake is one authChallenge, then one authProve`
      : `the group asks for its shared secret: ${op} before authenticating is refused`));
  }

  private finish(connection: Connection, id: number, value: unknown, ok: boolean): void {
    connection.inFlight--;
    this.inFlightTotal--;
    this.reply(connection, id, value, ok);
    if (this.inFlightTotal === 0 && this.drainWaiters.length > 0) {
      for (const wake of this.drainWaiters.splice(0)) wake();
    }
  }

  private reply(connection: Connection, id: number, value: unknown, ok: boolean): void {
    this.answered++;
    try {
      if (ok) connection.channel.send([MessageKind.success, id, value === undefined ? null : value]);
      else connection.channel.send([MessageKind.failure, id, errorToWire(value)]);
    } catch (error) {
      // A reply too large for one frame: the request fails, the connection stays usable.
      connection.channel.send([MessageKind.failure, id, errorToWire(error)]);
    }
  }

  /**
   * Stops taking requests (new ones get HPCKV_ERR_SHUTTING_DOWN), waits up to `drainMs` for those
   * in flight, then closes every connection after its replies are written.
   */
  async close(drainMs = this.limits.shutdownDrainMs): Promise<void> {
    this.draining = true;
    await this.listener?.close();
    if (this.inFlightTotal > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.drainWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    // Replies queued this turn are flushed by end().
    for (const connection of this.connections.values()) connection.channel.end();
    this.connections.clear();
  }
}
