import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCodes, HpckvError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { FrameChannel } from '../rpc/frame-channel.js';
import type { Link } from '../rpc/link.js';
import { connect, listen, type Listener } from '../rpc/transport.js';
import { decodeMessage, encodeMessage } from '../wire/message-codec.js';
import { publishRecord, removeRecord, waitForRecords } from './dir-rendezvous.js';
import type { Endpoint, MessageHandler, PeerDeparture, PeerLostHandler } from './endpoint.js';
import { EndpointEvents } from './endpoint-events.js';
import {
  BYE_FRAME, helloFrame, isBye, isDataFrame, parseHello, parseWelcome, welcomeFrame, type PeerRecord,
} from './socket-protocol.js';

/**
 * The sockets backend: every rank listens (Unix socket or TCP), learns every other rank's
 * address through a rendezvous, and keeps one connection per pair of ranks, which carries both
 * directions (so per-pair order is the stream's order). Rank r dials every lower rank and
 * accepts every higher one. Connections are made eagerly, at start-up: it makes start-up a
 * barrier that fails fast when a rank is missing, and it means every rank hears at once when any
 * other rank goes, which is how a receive waiting on a dead rank (directly or through a
 * collective) is rejected instead of hanging.
 *
 * Rendezvous: either a directory (see dir-rendezvous.ts), or rank 0 at a known root address:
 * the others dial it first and say hello with their own address; once all have, rank 0
 * welcomes each with the full table, and that connection stays as the (0, r) pair's.
 *
 * Not detected: a peer that hangs without closing its sockets (there are no heartbeats).
 */

export type SocketRendezvous = { dir: string } | { rootAddress: string };

export interface SocketEndpointOptions {
  rank: number;
  size: number;
  rendezvous: SocketRendezvous;
  /**
   * Where this rank listens: unix:///PATH, or tcp://HOST:PORT with port 0 for any free port.
   * Under `rootAddress`, rank 0 must listen on the root address itself.
   */
  listenAddress: string;
  /** The whole start-up (rendezvous and connections) must finish within this. */
  timeoutMs: number;
  frameBytesMax?: number;
}

/** How long close() lets peers acknowledge the end of each connection before cutting it. */
const CLOSE_GRACE_MS = 2000;
/** Back-off between attempts to reach a root that is not listening yet. */
const ROOT_RETRY_FIRST_MS = 10;
const ROOT_RETRY_MAX_MS = 500;

/** One connection, from the first byte: `rank` is known once a hello names it. */
class Connection {
  channel!: FrameChannel;
  rank: number | undefined;
  /** True once both hello and welcome are through: the pair's messages flow on it. */
  established = false;
  protocolError: HpckvError | undefined;
  readonly closed: Promise<void>;
  markClosed!: () => void;

  constructor() {
    this.closed = new Promise<void>((resolve) => { this.markClosed = resolve; });
  }
}

/** A promise settled from outside; only ever resolved (failures travel through the start-up abort). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** "rank 3" or "ranks 1, 2, 5" (the first ten). */
function formatRanks(ranks: readonly number[]): string {
  const shown = ranks.slice(0, 10).join(', ');
  return (ranks.length === 1 ? 'rank ' : 'ranks ') + (ranks.length > 10 ? `${shown} and ${ranks.length - 10} more` : shown);
}

export class SocketEndpoint implements Endpoint {
  readonly worldRank: number;
  readonly worldSize: number;
  private readonly options: SocketEndpointOptions;
  private readonly frameBytesMax: number;
  private readonly events = new EndpointEvents();
  private readonly connections = new Set<Connection>();
  /** Established connection of each peer, by world rank. */
  private readonly peers: Array<Connection | undefined>;
  private establishedCount = 0;
  private readonly allEstablished = deferred<void>();
  private listener: Listener | undefined;
  private record: PeerRecord | undefined;
  private table: PeerRecord[] | undefined;
  /** Hellos accepted before the table was known; welcomed once it is. */
  private unwelcomed: Connection[] = [];
  /** Rank 0 under a root address: records from the hellos, and the table once all have come. */
  private readonly joins: Array<PeerRecord | undefined>;
  private joinCount = 0;
  private readonly joined = deferred<PeerRecord[]>();
  /** Aborted (with the error as reason) when start-up fails: every start-up wait rejects with it. */
  private readonly startup = new AbortController();
  private started = false;
  private deadline = 0;
  private shuttingDown = false;
  private closing: Promise<void> | undefined;

  /** Listens, rendezvouses and connects to every peer; rejects with HPCKV_ERR_COMM on failure or timeout. */
  static async start(options: SocketEndpointOptions): Promise<SocketEndpoint> {
    const endpoint = new SocketEndpoint(options);
    try {
      await endpoint.run();
      return endpoint;
    } catch (error) {
      await endpoint.shutdown(false);
      throw error;
    }
  }

  private constructor(options: SocketEndpointOptions) {
    this.options = options;
    this.worldRank = options.rank;
    this.worldSize = options.size;
    this.frameBytesMax = options.frameBytesMax ?? DEFAULT_LIMITS.frameBytesMax;
    this.peers = new Array<Connection | undefined>(options.size).fill(undefined);
    this.joins = new Array<PeerRecord | undefined>(options.size).fill(undefined);
    if (options.size === 1) this.allEstablished.resolve();
  }

  async send(dest: number, context: string, tag: number, data: unknown): Promise<void> {
    if (this.shuttingDown) throw new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}'s endpoint is closed`);
    if (!Number.isInteger(dest) || dest < 0 || dest >= this.worldSize) {
      throw new TypeError(`dest must be a world rank in 0..${this.worldSize - 1}, got ${String(dest)}`);
    }
    const lost = this.events.lostError(dest);
    if (lost !== undefined) throw lost;
    if (dest === this.worldRank) {
      // Through msgpack like any message, so the receiver gets a copy of the same types.
      const payload = encodeMessage(data);
      setImmediate(() => {
        if (!this.shuttingDown) this.events.message(dest, context, tag, decodeMessage(payload));
      });
      return;
    }
    const peer = this.peers[dest];
    if (peer === undefined) throw new HpckvError(ErrorCodes.COMM, `no connection to rank ${dest}`, { details: { worldRank: dest } });
    peer.channel.send([context, tag, data]);
  }

  onMessage(handler: MessageHandler): void {
    this.events.setMessageHandler(handler);
  }

  onPeerLost(handler: PeerLostHandler): void {
    this.events.setPeerLostHandler(handler);
  }

  /** Says goodbye to every peer (after the messages already queued), closes, removes socket and rendezvous files. */
  close(): Promise<void> {
    this.closing ??= this.shutdown(true);
    return this.closing;
  }

  private async run(): Promise<void> {
    const { rendezvous, timeoutMs } = this.options;
    this.deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => this.failStart(new HpckvError(ErrorCodes.COMM,
      `rank ${this.worldRank} of ${this.worldSize}: start-up did not finish within ${timeoutMs} ms (${this.waitingFor()})`,
      { details: { rank: this.worldRank, size: this.worldSize, timeoutMs } })), timeoutMs);
    try {
      this.listener = await listen(this.options.listenAddress, (link) => this.accept(link));
      this.record = { rank: this.worldRank, address: this.listener.address, host: hostname(), pid: process.pid };
      let table: PeerRecord[];
      if ('dir' in rendezvous) {
        // Not raced against the start-up abort: a write finishing after the clean-up would leave a stale file.
        await publishRecord(rendezvous.dir, this.record);
        table = await waitForRecords(rendezvous.dir, this.worldSize, this.startup.signal);
      } else if (this.worldRank === 0) {
        this.join(this.record);
        table = await this.guard(this.joined.promise);
      } else {
        const rootTable = await this.dial(0, rendezvous.rootAddress, true);
        if (rootTable === null) throw new HpckvError(ErrorCodes.COMM, `the root at ${rendezvous.rootAddress} sent no address table`);
        table = rootTable;
      }
      this.adoptTable(table);
      const lowest = 'rootAddress' in rendezvous ? 1 : 0;
      const dials: Array<Promise<unknown>> = [];
      for (let rank = lowest; rank < this.worldRank; rank++) dials.push(this.dial(rank, table[rank]!.address, false));
      await Promise.all([...dials, this.guard(this.allEstablished.promise)]);
      this.started = true;
    } finally {
      clearTimeout(timer);
    }
  }

  private failStart(error: HpckvError): void {
    if (!this.started && !this.startup.signal.aborted) this.startup.abort(error);
  }

  /** `promise`, or the start-up failure if that comes first. */
  private guard<T>(promise: Promise<T>): Promise<T> {
    const signal = this.startup.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private track(link: Link, onMessage: (connection: Connection, message: unknown) => void): Connection {
    const connection = new Connection();
    connection.channel = new FrameChannel(link, this.frameBytesMax, {
      onMessage: (message) => onMessage(connection, message),
      onProtocolError: (error) => {
        connection.protocolError = error;
        connection.channel.destroy();
      },
      onClose: (error) => {
        this.connections.delete(connection);
        connection.markClosed();
        this.connectionClosed(connection, error);
      },
    });
    this.connections.add(connection);
    return connection;
  }

  /** Acceptor side: the first frame must be a hello from a higher rank. */
  private accept(link: Link): void {
    if (this.shuttingDown) {
      link.destroy();
      return;
    }
    this.track(link, (connection, message) => {
      if (connection.rank !== undefined) {
        this.onFrame(connection, message);
        return;
      }
      const record = parseHello(message, this.worldSize);
      const duplicate = record !== undefined
        && [...this.connections].some((other) => other !== connection && other.rank === record.rank);
      if (record === undefined || record.rank <= this.worldRank || duplicate) {
        // A stray or confused client; the peer it claims to be (if any) will time out and say why.
        connection.channel.destroy();
        return;
      }
      connection.rank = record.rank;
      if ('rootAddress' in this.options.rendezvous && this.worldRank === 0) this.join(record);
      if (this.table === undefined) this.unwelcomed.push(connection);
      else this.welcome(connection);
    });
  }

  /** Rank 0 under a root address: collects the records; the table is complete when every rank has joined. */
  private join(record: PeerRecord): void {
    if (this.joins[record.rank] !== undefined) return;
    this.joins[record.rank] = record;
    if (++this.joinCount === this.worldSize) this.joined.resolve(this.joins as PeerRecord[]);
  }

  private adoptTable(table: PeerRecord[]): void {
    if (table[this.worldRank]?.address !== this.record!.address) {
      throw new HpckvError(ErrorCodes.COMM, `the rendezvous gives rank ${this.worldRank} the address `
        + `${table[this.worldRank]?.address ?? '(none)'}, not ${this.record!.address} (is the directory left from another run?)`);
    }
    this.table = table;
    const waiting = this.unwelcomed;
    this.unwelcomed = [];
    for (const connection of waiting) this.welcome(connection);
  }

  private welcome(connection: Connection): void {
    const isRoot = 'rootAddress' in this.options.rendezvous && this.worldRank === 0;
    connection.channel.send(welcomeFrame(isRoot ? this.table! : null));
    this.establish(connection);
  }

  private establish(connection: Connection): void {
    connection.established = true;
    this.peers[connection.rank!] = connection;
    if (++this.establishedCount === this.worldSize - 1) this.allEstablished.resolve();
  }

  /** Connector side: dials a lower rank, says hello, waits for the welcome (and the table it may carry). */
  private async dial(rank: number, address: string, retry: boolean): Promise<PeerRecord[] | null> {
    const link = await this.connectLink(address, retry);
    if (this.startup.signal.aborted) {
      link.destroy();
      throw this.startup.signal.reason;
    }
    const welcomed = deferred<PeerRecord[] | null>();
    const connection = this.track(link, (_, message) => {
      if (connection.established) {
        this.onFrame(connection, message);
        return;
      }
      const table = parseWelcome(message, this.worldSize);
      if (table === undefined) {
        connection.protocolError = new HpckvError(ErrorCodes.PROTOCOL, `rank ${rank} at ${address} sent a malformed welcome`);
        connection.channel.destroy();
        return;
      }
      this.establish(connection);
      welcomed.resolve(table);
    });
    connection.rank = rank;
    connection.channel.send(helloFrame(this.record!, this.worldSize));
    return this.guard(welcomed.promise);
  }

  /** Connects; with `retry`, keeps trying while nobody listens there yet (the root may start last). */
  private async connectLink(address: string, retry: boolean): Promise<Link> {
    let backoff = ROOT_RETRY_FIRST_MS;
    for (;;) {
      try {
        const attempt = connect(address, Math.max(1, this.deadline - Date.now()));
        // A connection that completes after start-up failed is nobody's: close it.
        attempt.then((link) => { if (this.startup.signal.aborted) link.destroy(); }, () => undefined);
        return await this.guard(attempt);
      } catch (error) {
        if (this.startup.signal.aborted) throw this.startup.signal.reason;
        const code = ((error as HpckvError).cause as NodeJS.ErrnoException | undefined)?.code;
        if (!retry || (code !== 'ECONNREFUSED' && code !== 'ENOENT')) {
          throw new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank} cannot connect to ${address}: ${(error as Error).message}`,
            { cause: error, details: { address } });
        }
      }
      await delay(backoff, undefined, { signal: this.startup.signal }).catch(() => { throw this.startup.signal.reason; });
      backoff = Math.min(backoff * 2, ROOT_RETRY_MAX_MS);
    }
  }

  /** A frame on an established connection: a message, or the peer's goodbye. */
  private onFrame(connection: Connection, message: unknown): void {
    const rank = connection.rank!;
    if (isDataFrame(message)) {
      this.events.message(rank, message[0], message[1], message[2]);
    } else if (isBye(message)) {
      this.peerGone(rank, new HpckvError(ErrorCodes.COMM, `${this.describe(rank)} closed its communicator`,
        { details: { worldRank: rank } }), 'closed');
    } else {
      connection.protocolError = new HpckvError(ErrorCodes.PROTOCOL, `${this.describe(rank)} sent a malformed frame`);
      connection.channel.destroy();
    }
  }

  private connectionClosed(connection: Connection, error?: Error): void {
    const rank = connection.rank;
    if (this.shuttingDown || rank === undefined) return;
    if (!connection.established) {
      // A dial whose handshake broke: the start-up cannot complete.
      this.failStart(new HpckvError(ErrorCodes.COMM, `${this.describe(rank)} closed the connection before the handshake finished`,
        { cause: connection.protocolError ?? error, details: { worldRank: rank } }));
      return;
    }
    if (this.peers[rank] === connection) this.peers[rank] = undefined;
    const cause = connection.protocolError ?? error;
    this.peerGone(rank, new HpckvError(ErrorCodes.COMM,
      `connection to ${this.describe(rank)} was lost${cause === undefined ? '' : `: ${cause.message}`}`,
      { cause, details: { worldRank: rank } }), 'failed');
  }

  private peerGone(rank: number, error: HpckvError, departure: PeerDeparture): void {
    this.events.peerLost(rank, error, departure);
    this.failStart(error);
  }

  private describe(rank: number): string {
    const record = this.table?.[rank];
    return record === undefined ? `rank ${rank}` : `rank ${rank} (pid ${record.pid} on ${record.host})`;
  }

  /** For the start-up timeout: what is still missing. */
  private waitingFor(): string {
    const { rendezvous } = this.options;
    if (this.listener === undefined) return `listening on ${this.options.listenAddress}`;
    if (this.table === undefined) {
      if ('dir' in rendezvous) {
        let present: string[] = [];
        try { present = readdirSync(rendezvous.dir); } catch { /* reported as all missing */ }
        const missing = Array.from({ length: this.worldSize }, (_, r) => r).filter((r) => !present.includes(`rank-${r}.json`));
        return `rendezvous files missing in ${rendezvous.dir} for ${formatRanks(missing)}`;
      }
      if (this.worldRank === 0) {
        const missing = this.joins.flatMap((record, r) => (record === undefined ? [r] : []));
        return `${formatRanks(missing)} not joined yet at ${rendezvous.rootAddress}`;
      }
      return `no address table yet from the root at ${rendezvous.rootAddress}`;
    }
    const missing = this.peers.flatMap((peer, r) => (peer === undefined && r !== this.worldRank ? [r] : []));
    return `no connection yet with ${formatRanks(missing)}`;
  }

  /** Graceful: a goodbye after what is queued, then end. Otherwise (failed start-up): cut everything. */
  private async shutdown(graceful: boolean): Promise<void> {
    this.shuttingDown = true;
    this.failStart(new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}'s endpoint was closed during start-up`));
    for (const connection of this.connections) {
      if (graceful && connection.established) {
        connection.channel.send(BYE_FRAME);
        connection.channel.end();
      } else {
        connection.channel.destroy();
      }
    }
    // A peer that is alive but stopped (not reading) must not hold close() forever.
    const grace = setTimeout(() => { for (const connection of this.connections) connection.channel.destroy(); }, CLOSE_GRACE_MS);
    await Promise.all([...this.connections].map((connection) => connection.closed));
    clearTimeout(grace);
    await this.listener?.close();
    if ('dir' in this.options.rendezvous) await removeRecord(this.options.rendezvous.dir, this.worldRank);
  }
}
