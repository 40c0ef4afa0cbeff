import { createConnection, type Socket } from 'node:net';
import { parseAddress } from '../../core/rpc/address.js';
import { FrameDecoder, encodeFrame } from '../../core/wire/frame-codec.js';
import { encodeMessage } from '../../core/wire/message-codec.js';
import { decodeFramePayload } from '../../core/wire/tail-frames.js';

/**
 * A plain socket to an hpckv server, for tests that send bytes no well-behaved client would:
 * it writes whatever it is given and decodes whatever comes back into rpc envelopes (4-byte
 * length prefix + msgpack, or a tailed frame), queued until a test takes them with `next()`. Nothing here sleeps:
 * every wait is on a socket event.
 */
export class RawConnection {
  readonly socket: Socket;
  /** Settles when the socket has closed (for any reason); never rejects. */
  readonly closed: Promise<{ error: Error | undefined }>;
  private readonly decoder = new FrameDecoder(0xffff_ffff);
  private readonly messages: unknown[] = [];
  private waiters: Array<{ resolve: (message: unknown) => void; reject: (error: Error) => void }> = [];
  private isClosed = false;
  private lastError: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.decoder.push(chunk);
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      for (const frame of frames) {
        let message: unknown;
        try {
          message = decodeFramePayload(frame);
        } catch (error) {
          this.fail(error as Error);
          return;
        }
        const waiter = this.waiters.shift();
        if (waiter !== undefined) waiter.resolve(message);
        else this.messages.push(message);
      }
    });
    // The server may reset a connection it refused; that is a close, not a test failure.
    socket.on('error', (error) => { this.lastError = error; });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        const error = new Error('connection closed before the next message' +
          (this.lastError ? ` (${this.lastError.message})` : ''));
        for (const waiter of this.waiters.splice(0)) waiter.reject(error);
        resolve({ error: this.lastError });
      });
    });
  }

  /** Opens a plain TCP (or Unix) socket to an hpckv address such as tcp://127.0.0.1:4000. */
  static open(address: string): Promise<RawConnection> {
    const parsed = parseAddress(address);
    if (parsed.kind === 'inproc') throw new TypeError('RawConnection needs a socket address');
    return new Promise((resolve, reject) => {
      const socket = parsed.kind === 'tcp'
        ? createConnection({ host: parsed.host, port: parsed.port })
        : createConnection({ path: parsed.path });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get hasClosed(): boolean {
    return this.isClosed;
  }

  /** Messages received and not yet taken. */
  get unread(): readonly unknown[] {
    return this.messages;
  }

  /** Writes raw bytes; resolves once the socket has handed them to the OS (or failed to). */
  write(bytes: Uint8Array): Promise<Error | undefined> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) {
        resolve(new Error('socket not writable'));
        return;
      }
      this.socket.write(bytes, (error) => resolve(error ?? undefined));
    });
  }

  /** Writes one message as a well-formed frame. */
  send(message: unknown): Promise<Error | undefined> {
    return this.write(frameOf(message));
  }

  /** Writes bytes one at a time, each waiting for the previous one to be handed to the OS. */
  async writeSlowly(bytes: Uint8Array): Promise<void> {
    for (let i = 0; i < bytes.length; i++) {
      const error = await this.write(bytes.subarray(i, i + 1));
      if (error !== undefined) throw error;
    }
  }

  /** The next decoded message; rejects if the connection closes first. */
  next(): Promise<unknown> {
    if (this.messages.length > 0) return Promise.resolve(this.messages.shift());
    if (this.isClosed) return Promise.reject(new Error('connection closed before the next message'));
    return new Promise((resolve, reject) => { this.waiters.push({ resolve, reject }); });
  }

  /** Half-closes: no more bytes from this side. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`server sent bad bytes: ${error.message}`));
    this.socket.destroy();
  }
}

/** One message as a frame: 4-byte big-endian length, then msgpack. */
export function frameOf(message: unknown): Buffer {
  return encodeFrame(encodeMessage(message));
}

/** A length prefix alone. */
export function prefixOf(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length, 0);
  return prefix;
}
