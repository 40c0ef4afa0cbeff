/**
 * The bare mechanism behind the kv rows, as a server process with no hpckv code: length-prefixed
 * binary frames over a socket, LevelDB through classic-level, the puts that arrive together written
 * as one batch (hpckv's group commit, without its locks, stats or key filter), gets answered in the
 * turn they arrive with `getSync`, and the replies of one turn written together. No validation,
 * no limits, no msgpack, no error replies: what hpckv costs above this is its own work.
 * Started by bare-store.ts; its frames are described there.
 */
import { ClassicLevel } from 'classic-level';
import { createServer, type Socket } from 'node:net';

export const BARE_OP = { put: 1, get: 2, putMany: 3, getMany: 4 } as const;

interface PendingPut {
  socket: Socket;
  id: number;
  entries: Array<{ key: Buffer; value: Buffer }>;
}

async function main(): Promise<void> {
  const [listenAt, dir] = process.argv.slice(2);
  const db = new ClassicLevel<Buffer, Buffer>(dir!, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const writer = new GroupWriter(db);
  const server = createServer((socket) => serve(socket, db, writer));
  const port = Number(listenAt);
  await new Promise<void>((resolve) => (Number.isInteger(port) ? server.listen(port, '127.0.0.1', resolve) : server.listen(listenAt!, resolve)));
  const address = server.address();
  process.send!({ type: 'ready', port: typeof address === 'object' && address !== null ? address.port : 0 });
  process.on('disconnect', () => { server.close(); void db.close().then(() => process.exit(0)); });
}

/** Puts that arrive while a batch is being written form the next batch; one batch at a time. */
class GroupWriter {
  #pending: PendingPut[] = [];
  #writing = false;
  #scheduled = false;

  readonly #db: ClassicLevel<Buffer, Buffer>;

  constructor(db: ClassicLevel<Buffer, Buffer>) {
    this.#db = db;
  }

  add(put: PendingPut): void {
    this.#pending.push(put);
    if (this.#writing || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#write());
  }

  #write(): void {
    this.#scheduled = false;
    const group = this.#pending;
    if (group.length === 0) return;
    this.#pending = [];
    this.#writing = true;
    const only = group.length === 1 && group[0]!.entries.length === 1 ? group[0]!.entries[0]! : undefined;
    const written = only !== undefined
      ? this.#db.put(only.key, only.value)
      : this.#db.batch(group.flatMap((put) => put.entries.map(({ key, value }) => ({ type: 'put' as const, key, value }))));
    void written.then(() => {
      this.#writing = false;
      const sockets = new Set(group.map((put) => put.socket));
      for (const socket of sockets) socket.cork();
      for (const put of group) reply(put.socket, put.id, EMPTY);
      for (const socket of sockets) socket.uncork();
      if (this.#pending.length > 0) this.#write();
    });
  }
}

const EMPTY = Buffer.alloc(0);

/** One reply; callers cork the socket around a run of them, so the replies of one read or one batch leave in one writev. */
function reply(socket: Socket, id: number, body: Buffer): void {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(4 + body.length, 0);
  head.writeUInt32BE(id, 4);
  socket.write(head);
  if (body.length > 0) socket.write(body);
}

function serve(socket: Socket, db: ClassicLevel<Buffer, Buffer>, writer: GroupWriter): void {
  // Bytes of an incomplete frame, joined once the frame is whole (a 4 MiB putMany arrives in 64 KiB reads).
  let held: Buffer[] = [];
  let heldBytes = 0;
  socket.on('data', (chunk: Buffer) => {
    let data = chunk;
    if (heldBytes > 0) {
      held.push(chunk);
      heldBytes += chunk.length;
      const first = held[0]!;
      const need = heldBytes >= 4 ? 4 + (first.length >= 4 ? first : Buffer.concat(held)).readUInt32BE(0) : Number.POSITIVE_INFINITY;
      if (heldBytes < need) return;
      data = Buffer.concat(held, heldBytes);
      held = [];
      heldBytes = 0;
    }
    let offset = 0;
    socket.cork();
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset);
      if (data.length - offset - 4 < length) break;
      handle(socket, data.subarray(offset + 4, offset + 4 + length), db, writer);
      offset += 4 + length;
    }
    socket.uncork();
    if (offset < data.length) {
      held = [data.subarray(offset)];
      heldBytes = data.length - offset;
    }
  });
  socket.on('error', () => socket.destroy());
}

function handle(socket: Socket, frame: Buffer, db: ClassicLevel<Buffer, Buffer>, writer: GroupWriter): void {
  const op = frame[0]!;
  const id = frame.readUInt32BE(1);
  const body = frame.subarray(5);
  if (op === BARE_OP.put) {
    const keyBytes = body.readUInt16BE(0);
    writer.add({ socket, id, entries: [{ key: body.subarray(2, 2 + keyBytes), value: body.subarray(2 + keyBytes) }] });
  } else if (op === BARE_OP.get) {
    const value = db.getSync(body);
    reply(socket, id, value === undefined ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), value]));
  } else if (op === BARE_OP.putMany) {
    const count = body.readUInt32BE(0);
    const entries: Array<{ key: Buffer; value: Buffer }> = [];
    let at = 4;
    for (let i = 0; i < count; i++) {
      const keyBytes = body.readUInt16BE(at);
      const valueBytes = body.readUInt32BE(at + 2);
      at += 6;
      entries.push({ key: body.subarray(at, at + keyBytes), value: body.subarray(at + keyBytes, at + keyBytes + valueBytes) });
      at += keyBytes + valueBytes;
    }
    writer.add({ socket, id, entries });
  } else if (op === BARE_OP.getMany) {
    const count = body.readUInt32BE(0);
    const parts: Buffer[] = [Buffer.allocUnsafe(4)];
    parts[0]!.writeUInt32BE(count, 0);
    let at = 4;
    for (let i = 0; i < count; i++) {
      const keyBytes = body.readUInt16BE(at);
      const value = db.getSync(body.subarray(at + 2, at + 2 + keyBytes));
      at += 2 + keyBytes;
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(value === undefined ? -1 : value.length, 0);
      parts.push(size);
      if (value !== undefined) parts.push(value);
    }
    reply(socket, id, Buffer.concat(parts));
  }
}

if (process.send !== undefined && process.argv[1]?.endsWith('bare-store-server.js')) void main();
