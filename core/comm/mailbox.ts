import { ErrorCodes, HpckvError } from '../errors.js';
import { ANY_SOURCE, ANY_TAG, type RecvOptions } from './communicator.js';

/**
 * MPI matching for one context: an unexpected-message queue in arrival order and a list of
 * posted receives in post order. Because a backend delivers each source's messages in send
 * order, "first match in arrival order" gives per-(source, tag) FIFO, and "first posted receive
 * that matches" gives MPI's posted-receive order. Scans are linear: queues stay short in the
 * bootstrap and collective traffic this carries.
 *
 * Sources here are whatever numbering the owner uses (GroupCommunicator uses world ranks, so
 * messages can be queued before the communicator that will read them exists).
 */

export interface Envelope {
  source: number;
  tag: number;
  data: unknown;
}

interface PostedReceive {
  source: number;
  tag: number;
  resolve(envelope: Envelope): void;
  reject(error: HpckvError): void;
}

export interface ReceiveRequest extends RecvOptions {
  /** Names the receive in timeout and abort errors ("recv from rank 2, tag 5"). */
  what: string;
  /** Asked after the queue had no match: an error means "do not wait, nothing will come". */
  refuse?: () => HpckvError | undefined;
}

function matches(source: number, tag: number, envelope: Envelope): boolean {
  return (source === ANY_SOURCE || source === envelope.source) && (tag === ANY_TAG || tag === envelope.tag);
}

export class Mailbox {
  private unexpected: Envelope[] = [];
  private posted: PostedReceive[] = [];
  private closedError: HpckvError | undefined;

  deliver(envelope: Envelope): void {
    if (this.closedError !== undefined) return;
    const index = this.posted.findIndex((p) => matches(p.source, p.tag, envelope));
    if (index < 0) {
      this.unexpected.push(envelope);
      return;
    }
    const [receive] = this.posted.splice(index, 1);
    receive!.resolve(envelope);
  }

  receive(source: number, tag: number, request: ReceiveRequest): Promise<Envelope> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const { signal, timeoutMs } = request;
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      return Promise.reject(new TypeError(`timeoutMs must be a non-negative number, got ${String(timeoutMs)}`));
    }
    // Checked before the queue, as every AbortSignal-taking API does: an aborted call takes nothing.
    if (signal?.aborted) return Promise.reject(abortError(request.what, signal));
    const index = this.unexpected.findIndex((e) => matches(source, tag, e));
    if (index >= 0) return Promise.resolve(this.unexpected.splice(index, 1)[0]!);
    const refusal = request.refuse?.();
    if (refusal !== undefined) return Promise.reject(refusal);

    return new Promise<Envelope>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => settle(abortError(request.what, signal!));
      const settle = (outcome: Envelope | HpckvError): void => {
        const at = this.posted.indexOf(receive);
        if (at >= 0) this.posted.splice(at, 1);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (outcome instanceof HpckvError) reject(outcome);
        else resolve(outcome);
      };
      const receive: PostedReceive = { source, tag, resolve: settle, reject: settle };
      this.posted.push(receive);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => settle(new HpckvError(ErrorCodes.TIMEOUT,
          `${request.what} timed out after ${timeoutMs} ms`, { details: { timeoutMs } })), timeoutMs);
      }
    });
  }

  /** Rejects the posted receives whose source passes `affected` (ANY_SOURCE is passed as such). */
  fail(affected: (source: number) => boolean, error: HpckvError): void {
    for (const receive of this.posted.filter((p) => affected(p.source))) receive.reject(error);
  }

  /** Rejects every posted receive and every later one with `error`; drops queued messages. */
  close(error: HpckvError): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    this.unexpected = [];
    for (const receive of [...this.posted]) receive.reject(error);
  }
}

function abortError(what: string, signal: AbortSignal): HpckvError {
  return new HpckvError(ErrorCodes.ABORTED, `${what} was aborted`, { cause: signal.reason });
}
