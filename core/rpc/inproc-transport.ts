import { ErrorCodes, HpckvError } from '../errors.js';
import type { Link } from './link.js';

/**
 * The in-process transport: a pair of links that hand buffers to each other on a later tick,
 * so code over it behaves as over a socket (never re-entrant), for logic tests and the
 * embedded single-process mode.
 */

type Acceptor = (link: Link) => void;
const listeners = new Map<string, Acceptor>();

class InprocLink implements Link {
  peer: InprocLink | undefined;
  private dataHandler: ((chunk: Buffer) => void) | undefined;
  private closeHandler: ((error?: Error) => void) | undefined;
  private closed = false;
  private inbox: Buffer[] = [];
  private deliveryScheduled = false;
  readonly remote: string;

  constructor(remote: string) {
    this.remote = remote;
  }

  get pendingWriteBytes(): number {
    return 0;
  }

  write(chunks: readonly Buffer[]): void {
    const peer = this.peer;
    if (this.closed || peer === undefined) return;
    peer.receive(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.inbox.push(chunk);
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      const chunks = this.inbox;
      this.inbox = [];
      for (const c of chunks) {
        if (this.closed) return;
        this.dataHandler?.(c);
      }
    });
  }

  readonly readBufferReused = false;

  onData(handler: (chunk: Buffer) => void): void {
    this.dataHandler = handler;
  }

  // Nothing is ever held back in-process (pendingWriteBytes is 0), so there is nothing to pause.
  pause(): void {}

  resume(): void {}

  onDrain(): void {}

  onClose(handler: (error?: Error) => void): void {
    this.closeHandler = handler;
  }

  end(): void {
    // Let data already written reach the peer before it learns of the close.
    setImmediate(() => setImmediate(() => this.destroy()));
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox = [];
    const peer = this.peer;
    this.peer = undefined;
    setImmediate(() => this.closeHandler?.());
    if (peer !== undefined) peer.destroy();
  }
}

export function listenInproc(name: string, accept: Acceptor): { close(): void } {
  if (listeners.has(name)) {
    throw new HpckvError(ErrorCodes.BAD_CONFIG, `inproc://${name} is already listening`);
  }
  listeners.set(name, accept);
  return { close: () => { if (listeners.get(name) === accept) listeners.delete(name); } };
}

export async function connectInproc(name: string): Promise<Link> {
  const accept = listeners.get(name);
  if (accept === undefined) {
    throw new HpckvError(ErrorCodes.CONNECT_FAILED, `nothing listens at inproc://${name}`, { details: { address: `inproc://${name}` } });
  }
  const local = new InprocLink(`inproc://${name}`);
  const remote = new InprocLink('inproc-client');
  local.peer = remote;
  remote.peer = local;
  // Accept on a later turn, as a socket server would.
  await new Promise<void>((resolve) => setImmediate(resolve));
  accept(remote);
  return local;
}
