import { ErrorCodes, HpckvError, errorFromWire, errorToWire } from '../errors.js';
import type { Limits } from '../limits.js';
import { authenticateToServer } from './auth-handshake.js';
import { FrameChannel } from './frame-channel.js';
import { connect } from './transport.js';
import { CONNECTION_ERROR_ID, MessageKind, REQUEST_ID_MAX } from './rpc-messages.js';

export interface CallOptions {
  /** Milliseconds to wait for the reply; 0 disables; default limits.requestTimeoutMs. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: HpckvError) => void;
  op: string;
  /** performance.now() after which the call times out; Infinity for none. */
  deadline: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** False once the caller gave up (timeout/abort); the reply is then dropped on arrival. */
  live: boolean;
}

/** Answers a request the server sends back over this connection: a value or a promise of one. */
export type BackChannelHandler = (op: string, body: unknown) => unknown;

interface Waiting {
  op: string;
  body: unknown;
  options: CallOptions;
  resolve: (value: unknown) => void;
  reject: (error: HpckvError) => void;
}

/**
 * The requesting side of one connection: many requests in flight, matched to replies by id.
 * At most `inFlightRequestsPerConnectionMax` requests are outstanding at the server; more calls
 * wait here (FIFO) instead of being refused there. A request that times out or is aborted
 * keeps its slot until the server answers it, so the server-side limit is never exceeded.
 */
export class RpcClient {
  readonly address: string;
  private readonly channel: FrameChannel;
  private readonly limits: Limits;
  private readonly pending = new Map<number, Pending>();
  private readonly waiting: Waiting[] = [];
  private nextId = 1;
  private closedError: HpckvError | undefined;
  private closeListeners: Array<(error: HpckvError) => void> = [];
  private backChannel: BackChannelHandler | undefined;
  /**
   * One timer for every pending call's deadline instead of a timer per call: it fires at the
   * earliest deadline known when it was set, times out what is due and sets itself again.
   * A timer per call (create, then clear on the reply) was about 1.5 µs of each request.
   */
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimerAt = Number.POSITIVE_INFINITY;

  private constructor(address: string, channel: FrameChannel, limits: Limits) {
    this.address = address;
    this.channel = channel;
    this.limits = limits;
  }

  /**
   * Opens a connection. With `authSecret` (the group's shared secret) it first proves the secret
   * and checks the server's proof (core/rpc/auth-handshake.ts), and resolves only then.
   */
  static async connect(address: string, limits: Limits, options: { authSecret?: Uint8Array } = {}): Promise<RpcClient> {
    const link = await connect(address, limits.connectTimeoutMs);
    let client: RpcClient | undefined;
    const channel = new FrameChannel(link, limits.frameBytesMax, {
      onMessage: (message) => client?.onMessage(message),
      onProtocolError: (error) => {
        client?.failAll(new HpckvError(ErrorCodes.PROTOCOL, `server ${address} sent bad bytes: ${error.message}`, { cause: error }));
        channel.destroy();
      },
      onClose: (error) => client?.failAll(new HpckvError(ErrorCodes.CONNECTION_CLOSED,
        `connection to ${address} closed` + (error ? `: ${error.message}` : ''), { cause: error, details: { address } })),
      // A lone request leaves at once; requests sent while others are outstanding leave together.
      isIdle: () => client === undefined || client.pending.size <= 1,
    });
    client = new RpcClient(address, channel, limits);
    if (options.authSecret !== undefined) {
      const connected = client;
      try {
        await authenticateToServer((op, body) => connected.call(op, body, { timeoutMs: limits.connectTimeoutMs }), options.authSecret, address);
      } catch (error) {
        connected.close();
        throw error;
      }
    }
    return client;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /** Called once when the connection is lost or closed. */
  onClose(listener: (error: HpckvError) => void): void {
    if (this.closedError !== undefined) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /**
   * Answers the server's requests on this connection (pulls from and pushes into registered
   * memory). Without a handler such a request is a protocol error.
   */
  serve(handler: BackChannelHandler): void {
    this.backChannel = handler;
  }

  private answerBackChannel(id: number, op: unknown, body: unknown): void {
    const handler = this.backChannel;
    const fail = (error: unknown): void => {
      if (!this.channel.isClosed) this.channel.send([MessageKind.failure, id, errorToWire(error)]);
    };
    const succeed = (value: unknown): void => {
      if (this.channel.isClosed) return;
      try {
        this.channel.send([MessageKind.success, id, value === undefined ? null : value]);
      } catch (error) {
        fail(error);
      }
    };
    if (handler === undefined || typeof op !== 'string') {
      fail(new HpckvError(ErrorCodes.UNKNOWN_OP, `this client answers no back-channel requests (${String(op).slice(0, 100)})`));
      return;
    }
    let result: unknown;
    try {
      result = handler(op, body);
    } catch (error) {
      fail(error);
      return;
    }
    if (result instanceof Promise) result.then(succeed, fail);
    else succeed(result);
  }

  call(op: string, body: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(op, signal));
    return new Promise<unknown>((resolve, reject) => {
      if (this.pending.size >= this.limits.inFlightRequestsPerConnectionMax) {
        this.waiting.push({ op, body, options, resolve, reject });
        return;
      }
      this.start(op, body, options, resolve, reject);
    });
  }

  private start(op: string, body: unknown, options: CallOptions,
    resolve: (value: unknown) => void, reject: (error: HpckvError) => void): void {
    const signal = options.signal;
    if (signal?.aborted) {
      reject(abortError(op, signal));
      return;
    }
    const id = this.allocateId();
    const timeoutMs = options.timeoutMs ?? this.limits.requestTimeoutMs;
    const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Number.POSITIVE_INFINITY;
    const entry: Pending = { resolve, reject, op, deadline, timeoutMs, signal, onAbort: undefined, live: true };
    if (deadline < this.deadlineTimerAt) this.armDeadlineTimer(deadline);
    if (signal !== undefined) {
      entry.onAbort = () => this.giveUp(entry, abortError(op, signal));
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    this.pending.set(id, entry);
    try {
      this.channel.send([MessageKind.request, id, op, body]);
    } catch (error) {
      // Not sent (too large for one frame): free the slot at once.
      this.pending.delete(id);
      entry.live = false;
      this.detach(entry);
      reject(error as HpckvError);
      this.startWaiting();
    }
  }

  private allocateId(): number {
    // Skip ids still in flight after a wrap (only possible with a request pending for 2^32 calls).
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= REQUEST_ID_MAX ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private armDeadlineTimer(at: number): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimerAt = at;
    this.deadlineTimer = setTimeout(this.expireDue, Math.max(0, Math.ceil(at - performance.now())));
  }

  /** Times out every live call whose deadline passed, then waits for the next deadline (if any). */
  private readonly expireDue = (): void => {
    this.deadlineTimer = undefined;
    this.deadlineTimerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.pending.values()) {
      if (!entry.live) continue;
      if (entry.deadline <= now) {
        this.giveUp(entry, new HpckvError(ErrorCodes.TIMEOUT, `${entry.op} to ${this.address} timed out after ${entry.timeoutMs} ms`,
          { details: { op: entry.op, timeoutMs: entry.timeoutMs, address: this.address } }));
      } else if (entry.deadline < next) {
        next = entry.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.armDeadlineTimer(next);
  };

  private giveUp(entry: Pending, error: HpckvError): void {
    if (!entry.live) return;
    entry.live = false;
    this.detach(entry);
    entry.reject(error);
  }

  private detach(entry: Pending): void {
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
  }

  private onMessage(message: unknown): void {
    if (!Array.isArray(message) || typeof message[1] !== 'number') {
      this.protocolFailure('reply is not an rpc envelope');
      return;
    }
    const kind = message[0];
    const id = message[1];
    if (kind === MessageKind.request && message.length === 4 && id > 0) {
      this.answerBackChannel(id, message[2], message[3]);
      return;
    }
    if (id === CONNECTION_ERROR_ID && kind === MessageKind.failure) {
      // The server refuses the whole connection (e.g. too many connections); it closes next.
      this.failAll(errorFromWire(message[2]));
      this.channel.destroy();
      return;
    }
    const entry = this.pending.get(id);
    if (entry === undefined) {
      this.protocolFailure(`reply for unknown request id ${id}`);
      return;
    }
    this.pending.delete(id);
    if (entry.live) {
      entry.live = false;
      this.detach(entry);
      if (kind === MessageKind.success) entry.resolve(message[2]);
      else if (kind === MessageKind.failure) entry.reject(errorFromWire(message[2]));
      else entry.reject(new HpckvError(ErrorCodes.PROTOCOL, `unknown reply kind ${String(kind)}`));
    }
    this.startWaiting();
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.pending.size < this.limits.inFlightRequestsPerConnectionMax) {
      const next = this.waiting.shift()!;
      this.start(next.op, next.body, next.options, next.resolve, next.reject);
    }
  }

  private protocolFailure(what: string): void {
    this.failAll(new HpckvError(ErrorCodes.PROTOCOL, `server ${this.address}: ${what}`));
    this.channel.destroy();
  }

  private failAll(error: HpckvError): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    for (const entry of this.pending.values()) {
      if (entry.live) {
        entry.live = false;
        this.detach(entry);
        entry.reject(error);
      }
    }
    this.pending.clear();
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineTimerAt = Number.POSITIVE_INFINITY;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }

  /** Closes the connection; calls in flight fail with HPCKV_ERR_CONNECTION_CLOSED. */
  close(): void {
    this.failAll(new HpckvError(ErrorCodes.CONNECTION_CLOSED, `connection to ${this.address} closed by this client`,
      { retryable: false, details: { address: this.address } }));
    this.channel.end();
  }
}

function abortError(op: string, signal: AbortSignal): HpckvError {
  return new HpckvError(ErrorCodes.ABORTED, `${op} aborted`, { cause: signal.reason, details: { op } });
}
