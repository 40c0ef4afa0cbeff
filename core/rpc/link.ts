import type { Socket } from 'node:net';

/**
 * A byte pipe between two peers, the one thing a transport must provide. The rpc layer puts
 * frames on it; TCP, Unix sockets and the in-process transport each implement it.
 */
export interface Link {
  /** Writes the chunks in order, as one system call where the transport allows (writev). */
  write(chunks: readonly Buffer[]): void;
  /** Bytes the transport holds that the peer has not taken yet (for back-pressure). */
  readonly pendingWriteBytes: number;
  /**
   * Delivers received bytes. When `readBufferReused` is true the chunk is a view of a buffer the
   * link reads into again after the handler returns: what the handler keeps, it must copy.
   */
  onData(handler: (chunk: Buffer) => void): void;
  readonly readBufferReused: boolean;
  /** Stops delivering data until resume() (the peer's writes then back up in the kernel). */
  pause(): void;
  resume(): void;
  /** Called each time bytes held by the transport have been handed to the peer. */
  onDrain(handler: () => void): void;
  /** Called once, when the link is gone for whatever reason. */
  onClose(handler: (error?: Error) => void): void;
  /** Flushes what was written, then closes. */
  end(): void;
  /** Closes at once, dropping unsent bytes. */
  destroy(): void;
  readonly remote: string;
}

/**
 * Reads of a socket opened with `onread` (see `readsIntoOneBuffer`): the socket calls `deliver`
 * with a view of its one read buffer; bytes that arrive before the link's owner listens are
 * copied and kept until it does.
 */
export interface BufferedReads {
  deliver(chunk: Buffer): void;
  listen(handler: (chunk: Buffer) => void): void;
}

export function bufferedReads(): BufferedReads {
  let handler: ((chunk: Buffer) => void) | undefined;
  let early: Buffer[] = [];
  return {
    deliver(chunk) {
      if (handler !== undefined) handler(chunk);
      else early.push(Buffer.from(chunk));
    },
    listen(next) {
      handler = next;
      const kept = early;
      early = [];
      for (const chunk of kept) next(chunk);
    },
  };
}

/**
 * The `onread` option of a socket that reads into one buffer of `bytes` for its whole life
 * instead of a fresh buffer per read, and hands each read to `reads` directly instead of
 * through the stream's 'data' event. Measured on this machine (4 KiB echo between two Node
 * processes, one at a time): p50 57 -> 45 µs; the same against Redis: 51 -> 39 µs.
 */
export function readsIntoOneBuffer(reads: BufferedReads, bytes: number): { buffer: Buffer; callback: (bytesRead: number, buffer: Buffer) => boolean } {
  return {
    buffer: Buffer.allocUnsafe(bytes),
    // true: keep reading (pause() still stops it).
    callback: (bytesRead, buffer) => { reads.deliver(buffer.subarray(0, bytesRead)); return true; },
  };
}

/**
 * Adapts a connected net.Socket (TCP or Unix). With `reads`, the socket was opened with
 * `readsIntoOneBuffer(reads, ...)` and its bytes come from there.
 */
export function socketLink(socket: Socket, remote: string, reads?: BufferedReads): Link {
  socket.setNoDelay?.(true);
  let closeHandler: ((error?: Error) => void) | undefined;
  let closed = false;
  let lastError: Error | undefined;
  socket.on('error', (error) => { lastError = error; });
  socket.on('close', () => {
    closed = true;
    closeHandler?.(lastError);
  });
  return {
    write(chunks) {
      if (closed || socket.destroyed) return;
      if (chunks.length === 1) {
        socket.write(chunks[0]!);
        return;
      }
      // cork/uncork turns the writes of one turn into a single writev.
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    },
    get pendingWriteBytes() { return socket.writableLength; },
    onData(handler) {
      if (reads !== undefined) reads.listen(handler);
      else socket.on('data', handler);
    },
    readBufferReused: reads !== undefined,
    pause() { socket.pause(); },
    resume() { socket.resume(); },
    onDrain(handler) { socket.on('drain', handler); },
    onClose(handler) {
      closeHandler = handler;
      if (closed) queueMicrotask(() => handler(lastError));
    },
    end() { socket.end(); },
    destroy() { socket.destroy(); },
    remote,
  };
}
