import { ErrorCodes, HpckvError, errorFromWire } from '../errors.js';
import { MessageKind, REQUEST_ID_MAX } from './rpc-messages.js';

interface PeerPending {
  resolve: (value: unknown) => void;
  reject: (error: HpckvError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Requests the answering side of a connection sends back to the requesting side (the back
 * channel: a server pulling from or pushing into a client's registered memory). Ids are this
 * side's own, so they never collide with the peer's requests: each side only ever receives
 * replies to its own requests and requests from the other.
 */
export class PeerCalls {
  private readonly pending = new Map<number, PeerPending>();
  private nextId = 1;
  private closedError: HpckvError | undefined;

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends [request, id, op, body] with `send`; settles on the reply, a timeout (0: none) or failAll. */
  call(send: (message: unknown) => void, op: string, body: unknown, timeoutMs: number, describe: string): Promise<unknown> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      let id = this.nextId;
      while (this.pending.has(id)) id = id >= REQUEST_ID_MAX ? 1 : id + 1;
      this.nextId = id >= REQUEST_ID_MAX ? 1 : id + 1;
      const entry: PeerPending = { resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new HpckvError(ErrorCodes.TIMEOUT, `${op} to ${describe} timed out after ${timeoutMs} ms`, { details: { op, timeoutMs } }));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      try {
        send([MessageKind.request, id, op, body]);
      } catch (error) {
        this.pending.delete(id);
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        reject(error as HpckvError);
      }
    });
  }

  /** Takes a reply [kind, id, payload]; false when it answers no request of ours (a protocol error). */
  settle(kind: unknown, id: number, payload: unknown): boolean {
    const entry = this.pending.get(id);
    if (entry === undefined) return false;
    this.pending.delete(id);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (kind === MessageKind.success) entry.resolve(payload);
    else entry.reject(errorFromWire(payload));
    return true;
  }

  failAll(error: HpckvError): void {
    this.closedError ??= error;
    for (const entry of this.pending.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(error);
    }
    this.pending.clear();
  }
}
