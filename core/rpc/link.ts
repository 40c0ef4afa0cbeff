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
  onData(handler: (chunk: Buffer) => void): void;
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

/** Adapts a connected net.Socket (TCP or Unix). */
export function socketLink(socket: Socket, remote: string): Link {
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
    onData(handler) { socket.on('data', handler); },
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
