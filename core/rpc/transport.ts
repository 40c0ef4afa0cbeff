import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { unlink } from 'node:fs/promises';
import { ErrorCodes, HpckvError } from '../errors.js';
import { formatAddress, parseAddress } from './address.js';
import { connectInproc, listenInproc } from './inproc-transport.js';
import { bufferedReads, readsIntoOneBuffer, socketLink, type Link } from './link.js';

/** The read buffer of a connection this side opens: Node's own reads allocate this much each. */
const CONNECTION_READ_BUFFER_BYTES = 64 * 1024;

/** A listening endpoint of any transport. */
export interface Listener {
  /** The address peers can connect to (a TCP port 0 resolved to the real port). */
  readonly address: string;
  /** Stops accepting; connected links stay open. */
  close(): Promise<void>;
}

export async function listen(address: string, accept: (link: Link) => void): Promise<Listener> {
  const parsed = parseAddress(address);
  if (parsed.kind === 'inproc') {
    const handle = listenInproc(parsed.name, accept);
    return { address, close: async () => handle.close() };
  }
  const server: Server = createServer((socket: Socket) => {
    const remote = parsed.kind === 'tcp' ? `tcp://${socket.remoteAddress}:${socket.remotePort}` : 'unix-peer';
    accept(socketLink(socket, remote));
  });
  if (parsed.kind === 'unix') {
    // A stale socket file from a crashed run would make listen fail with EADDRINUSE; a live one
    // belongs to a running server and must not be taken over.
    if (await unixSocketAnswers(parsed.path)) {
      throw new HpckvError(ErrorCodes.BAD_CONFIG, `cannot listen on ${address}: a running process already listens there`,
        { details: { address } });
    }
    await unlink(parsed.path).catch(() => undefined);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new HpckvError(ErrorCodes.BAD_CONFIG, `cannot listen on ${address}: ${error.message}`, { cause: error })));
    if (parsed.kind === 'tcp') server.listen(parsed.port, parsed.host, () => resolve());
    else server.listen(parsed.path, () => resolve());
  });
  let actual = address;
  if (parsed.kind === 'tcp') {
    const info = server.address();
    if (info !== null && typeof info === 'object') actual = formatAddress({ kind: 'tcp', host: parsed.host, port: info.port });
  }
  return {
    address: actual,
    // net.Server.close() only calls back once every connection has ended; stopping to accept
    // is immediate, and the connections are closed by their owners.
    close: async () => {
      server.close();
      if (parsed.kind === 'unix') await unlink(parsed.path).catch(() => undefined);
    },
  };
}

export async function connect(address: string, timeoutMs: number): Promise<Link> {
  const parsed = parseAddress(address);
  if (parsed.kind === 'inproc') return connectInproc(parsed.name);
  return new Promise<Link>((resolve, reject) => {
    // Only the connecting side can read into one buffer: a net.Server's sockets take no onread.
    const reads = bufferedReads();
    const onread = readsIntoOneBuffer(reads, CONNECTION_READ_BUFFER_BYTES);
    const socket = parsed.kind === 'tcp'
      ? createConnection({ host: parsed.host, port: parsed.port, onread })
      : createConnection({ path: parsed.path, onread });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new HpckvError(ErrorCodes.CONNECT_FAILED, `connecting to ${address} timed out after ${timeoutMs} ms`, { details: { address } }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socketLink(socket, address, reads));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new HpckvError(ErrorCodes.CONNECT_FAILED, `cannot connect to ${address}: ${error.message}`, { cause: error, details: { address } }));
    });
  });
}

/** True when something accepts connections on the Unix socket at `path`. */
function unixSocketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}
