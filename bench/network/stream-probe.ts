import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { runIfMain } from '../bench-main.js';

/**
 * A plain Node socket stream over the link, to see what the shaped link carries with no hpckv in
 * between: the client asks for `count` bytes down ('d') or sends `count` bytes up ('u') and the
 * server says when it has them all. Header: the direction's byte, then count as a u64 big-endian.
 */
const HEADER_BYTES = 9;
const CHUNK = Buffer.alloc(1024 * 1024, 0x5a);

export interface StreamRates {
  /** Bytes/s from the server's side to the client's, and back. */
  downloadBytesPerSecond: number;
  uploadBytesPerSecond: number;
}

/** Writes `count` bytes of CHUNK to the socket, honouring backpressure. */
async function writeBytes(socket: Socket, count: number): Promise<void> {
  for (let left = count; left > 0; left -= CHUNK.length) {
    if (!socket.write(left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left))) await once(socket, 'drain');
  }
}

function serveConnection(socket: Socket): void {
  let header = Buffer.alloc(0);
  let toReceive = -1;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    if (toReceive < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < HEADER_BYTES) return;
      const direction = String.fromCharCode(header[0]!);
      const count = Number(header.readBigUInt64BE(1));
      chunk = header.subarray(HEADER_BYTES);
      if (direction === 'd') {
        void writeBytes(socket, count).then(() => socket.end(), () => socket.destroy());
        return;
      }
      toReceive = count;
    }
    toReceive -= chunk.length;
    if (toReceive <= 0) socket.end(Buffer.from([1]));
  });
}

/** Listens on `host` (an ephemeral port) until close(). */
export async function startStreamProbeServer(host: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer(serveConnection);
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise((resolve) => { server.close(() => resolve()); }) };
}

async function connect(host: string, port: number, direction: 'd' | 'u', count: number): Promise<Socket> {
  const socket = createConnection({ host, port, noDelay: true });
  await once(socket, 'connect');
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = direction.charCodeAt(0);
  header.writeBigUInt64BE(BigInt(count), 1);
  socket.write(header);
  return socket;
}

/** Seconds to stream `bytes` down: from asking for them to the last one's arrival. */
async function download(host: string, port: number, bytes: number): Promise<number> {
  const socket = await connect(host, port, 'd', bytes);
  const start = process.hrtime.bigint();
  let received = 0;
  socket.on('data', (chunk: Buffer) => { received += chunk.length; });
  await once(socket, 'end');
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (received !== bytes) throw new Error(`stream probe: ${received} of ${bytes} bytes came down`);
  return seconds;
}

/** Seconds to stream `bytes` up: from the first byte written to the server's word that it has them all. */
async function upload(host: string, port: number, bytes: number): Promise<number> {
  const socket = await connect(host, port, 'u', bytes);
  const start = process.hrtime.bigint();
  const acknowledged = once(socket, 'data');
  await writeBytes(socket, bytes);
  await acknowledged;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return seconds;
}

/** Streams `bytes` down and up, each twice on fresh connections (as the bench's rows, the best of 2 rounds). */
export async function measureStreamRates(host: string, port: number, bytes: number): Promise<StreamRates> {
  let downSeconds = Infinity;
  let upSeconds = Infinity;
  for (let round = 0; round < 2; round++) {
    downSeconds = Math.min(downSeconds, await download(host, port, bytes));
    upSeconds = Math.min(upSeconds, await upload(host, port, bytes));
  }
  return { downloadBytesPerSecond: bytes / downSeconds, uploadBytesPerSecond: bytes / upSeconds };
}

/**
 * `node stream-probe.js --host H`: the server side in another namespace. Prints {"port":N} once
 * listening and exits when its stdin closes (the bench holds the other end, so a bench that dies
 * takes its probe with it).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { host: { type: 'string' } } });
  if (values.host === undefined) throw new TypeError('--host is required');
  const server = await startStreamProbeServer(values.host);
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  await server.close();
}

runIfMain(import.meta.url, main);
