import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BARE_OP } from './bare-store-server.js';
import type { KvTarget } from './kv-targets.js';
import type { Transport } from './suite-row.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./bare-store-server.js', import.meta.url));
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The kv rows' "bare" anchor: a client of bare-store-server.ts, the mechanism hpckv is built on with
 * nothing of hpckv's own (see there). Where a target lies beyond this anchor, it lies beyond the
 * mechanism; where hpckv trails it, the gap is hpckv's own work.
 *
 * Frames, both ways: a 4-byte big-endian length, then the body. Requests: op (1 byte), id (4), then
 * put: key length (2), key, value; get: key; putMany: count (4), then per record key length (2),
 * value length (4), key, value; getMany: count (4), then per key its length (2) and the key.
 * Replies: id (4), then get: found (1 byte) and the value; getMany: count (4), then per key a
 * value length (4, signed: -1 for missing) and the value; puts: nothing.
 */
export interface BareStore {
  target: KvTarget;
  /** The server process, for its CPU time. */
  pid: number;
  stop(): Promise<void>;
}

interface Waiting {
  resolve(body: Buffer): void;
}

export async function startBareStore(dir: string, transport: Transport): Promise<BareStore> {
  const listenAt = transport === 'tcp' ? '0' : join(dir, 'bare.sock');
  const child: ChildProcess = fork(SERVER_SCRIPT, [listenAt, join(dir, 'bare-db')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const [ready] = await Promise.race([once(child, 'message'), exited.then(([code]) => { throw new Error(`the bare store exited (${String(code)}) before it listened`); })]) as [{ port: number }];
  const client = await BareClient.open(transport === 'tcp' ? { host: '127.0.0.1', port: ready.port } : { path: listenAt });
  return {
    target: client.target(),
    pid: child.pid!,
    stop: async () => {
      client.close();
      child.disconnect();
      await exited;
    },
  };
}

class BareClient {
  #nextId = 0;
  readonly #waiting = new Map<number, Waiting>();
  #corked = false;
  /** Bytes of an incomplete reply (copied: the read buffer is reused). */
  #held: Buffer[] = [];
  #heldBytes = 0;

  readonly #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  static async open(at: { path: string } | { host: string; port: number }): Promise<BareClient> {
    let client: BareClient | undefined;
    const onread = { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (bytes: number, buffer: Buffer): boolean => { client!.#received(buffer.subarray(0, bytes)); return true; } };
    const socket = connect({ ...at, onread });
    client = new BareClient(socket);
    await once(socket, 'connect');
    socket.setNoDelay(true);
    return client;
  }

  target(): KvTarget {
    return {
      name: 'bare',
      putBatch: (keys, values) => {
        const parts: Buffer[] = [u32(keys.length)];
        keys.forEach((key, i) => {
          const head = Buffer.allocUnsafe(6);
          head.writeUInt16BE(key.length, 0);
          head.writeUInt32BE(values[i]!.length, 2);
          parts.push(head, key, values[i]!);
        });
        return this.#call(BARE_OP.putMany, parts);
      },
      getBatch: async (keys) => {
        const parts: Buffer[] = [u32(keys.length)];
        for (const key of keys) parts.push(u16(key.length), key);
        const body = await this.#call(BARE_OP.getMany, parts);
        let found = 0;
        let at = 4;
        for (let i = 0; i < keys.length; i++) {
          const size = body.readInt32BE(at);
          at += 4;
          if (size >= 0) { found++; at += size; }
        }
        return found;
      },
      put: (key, value) => this.#call(BARE_OP.put, [u16(key.length), key, value]),
      get: async (key) => {
        const body = await this.#call(BARE_OP.get, [key]);
        return body[0] === 1 ? body.subarray(1) : null;
      },
    };
  }

  close(): void {
    this.#socket.destroy();
  }

  /** Requests of one turn leave in one writev: the first corks the socket, the turn's end uncorks it. */
  #call(op: number, parts: Buffer[]): Promise<Buffer> {
    const id = this.#nextId++ >>> 0;
    let bytes = 5;
    for (const part of parts) bytes += part.length;
    const head = Buffer.allocUnsafe(9);
    head.writeUInt32BE(bytes, 0);
    head[4] = op;
    head.writeUInt32BE(id, 5);
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => { this.#corked = false; this.#socket.uncork(); });
    }
    this.#socket.write(head);
    for (const part of parts) this.#socket.write(part);
    return new Promise((resolve) => this.#waiting.set(id, { resolve }));
  }

  #received(chunk: Buffer): void {
    let data = chunk;
    if (this.#heldBytes > 0) {
      this.#held.push(Buffer.from(chunk));
      this.#heldBytes += chunk.length;
      if (this.#heldBytes < 4) return;
      if (this.#held[0]!.length < 4) this.#held = [Buffer.concat(this.#held, this.#heldBytes)];
      if (this.#heldBytes < 4 + this.#held[0]!.readUInt32BE(0)) return;
      data = Buffer.concat(this.#held, this.#heldBytes);
      this.#held = [];
      this.#heldBytes = 0;
    }
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset);
      if (data.length - offset - 4 < length) break;
      const id = data.readUInt32BE(offset + 4);
      // A copy: a view of the read buffer would be overwritten by the next read.
      const body = Buffer.from(data.subarray(offset + 8, offset + 4 + length));
      const waiting = this.#waiting.get(id)!;
      this.#waiting.delete(id);
      waiting.resolve(body);
      offset += 4 + length;
    }
    if (offset < data.length) {
      this.#held = [Buffer.from(data.subarray(offset))];
      this.#heldBytes = data.length - offset;
    }
  }
}

function u16(n: number): Buffer {
  const bytes = Buffer.allocUnsafe(2);
  bytes.writeUInt16BE(n, 0);
  return bytes;
}

function u32(n: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(n, 0);
  return bytes;
}
