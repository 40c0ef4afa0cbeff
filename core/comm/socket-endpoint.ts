import { hostname } from 'node:os';
import { ErrorCodes, HpckvError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { Link } from '../rpc/link.js';
import { listen, type Listener } from '../rpc/transport.js';
import { decodeMessage, encodeMessage } from '../wire/message-codec.js';
import { connectDuringStartup } from './connect-during-startup.js';
import { deferred } from './deferred.js';
import { publishRecord, removeRecord, waitForRecords } from './dir-rendezvous.js';
import type { Endpoint, PeerDeparture } from './endpoint.js';
import { RootJoins } from './root-joins.js';
import { endConnections, SocketConnection } from './socket-connection.js';
import {
  helloFrame, isBye, isDataFrame, parseHello, parseWelcome, welcomeFrame, type PeerRecord, type SocketRendezvous,
} from './socket-protocol.js';
import { StartupAbort } from './startup-abort.js';
import { describeStartupWait } from './startup-wait-report.js';
import { WorldEndpoint } from './world-endpoint.js';

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
 * welcomes each with the full table (root-joins.ts), and that connection stays as the (0, r)
 * pair's.
 *
 * Not detected: a peer that hangs without closing its sockets (there are no heartbeats).
 */

export type { SocketRendezvous };

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

export class SocketEndpoint extends WorldEndpoint implements Endpoint {
  private readonly options: SocketEndpointOptions;
  private readonly frameBytesMax: number;
  private readonly connections = new Set<SocketConnection>();
  /** Established connection of each peer, by world rank. */
  private readonly peers: Array<SocketConnection | undefined>;
  private establishedCount = 0;
  private readonly allEstablished = deferred<void>();
  private listener: Listener | undefined;
  private record: PeerRecord | undefined;
  private table: PeerRecord[] | undefined;
  /** Hellos accepted before the table was known; welcomed once it is. */
  private unwelcomed: SocketConnection[] = [];
  /** Rank 0 under a root address: the records from the hellos, and the table once all have come. */
  private readonly joins: RootJoins;
  /** Every start-up wait rejects with the start-up's failure. */
  private readonly startup = new StartupAbort();
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
    super(options.rank, options.size);
    this.options = options;
    this.frameBytesMax = options.frameBytesMax ?? DEFAULT_LIMITS.frameBytesMax;
    this.peers = new Array<SocketConnection | undefined>(options.size).fill(undefined);
    this.joins = new RootJoins(options.size);
    if (options.size === 1) this.allEstablished.resolve();
  }

  async send(dest: number, context: string, tag: number, data: unknown): Promise<void> {
    if (this.shuttingDown) throw new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}'s endpoint is closed`);
    this.checkDestination(dest);
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

  /** Says goodbye to every peer (after the messages already queued), closes, removes socket and rendezvous files. */
  close(): Promise<void> {
    this.closing ??= this.shutdown(true);
    return this.closing;
  }

  private async run(): Promise<void> {
    const { rendezvous, timeoutMs } = this.options;
    this.deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => this.startup.fail(new HpckvError(ErrorCodes.COMM,
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
        this.joins.join(this.record);
        table = await this.startup.guard(this.joins.table);
      } else {
        const rootTable = await this.dial(0, rendezvous.rootAddress, true);
        if (rootTable === null) throw new HpckvError(ErrorCodes.COMM, `the root at ${rendezvous.rootAddress} sent no address table`);
        table = rootTable;
      }
      this.adoptTable(table);
      const lowest = 'rootAddress' in rendezvous ? 1 : 0;
      const dials: Array<Promise<unknown>> = [];
      for (let rank = lowest; rank < this.worldRank; rank++) dials.push(this.dial(rank, table[rank]!.address, false));
      await Promise.all([...dials, this.startup.guard(this.allEstablished.promise)]);
      this.startup.succeed();
    } finally {
      clearTimeout(timer);
    }
  }

  private track(link: Link, onMessage: (connection: SocketConnection, message: unknown) => void): SocketConnection {
    const connection: SocketConnection = new SocketConnection(link, this.frameBytesMax, {
      onMessage: (message) => onMessage(connection, message),
      onClose: (error) => {
        this.connections.delete(connection);
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
      if ('rootAddress' in this.options.rendezvous && this.worldRank === 0) this.joins.join(record);
      if (this.table === undefined) this.unwelcomed.push(connection);
      else this.welcome(connection);
    });
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

  private welcome(connection: SocketConnection): void {
    const isRoot = 'rootAddress' in this.options.rendezvous && this.worldRank === 0;
    connection.channel.send(welcomeFrame(isRoot ? this.table! : null));
    this.establish(connection);
  }

  private establish(connection: SocketConnection): void {
    connection.established = true;
    this.peers[connection.rank!] = connection;
    if (++this.establishedCount === this.worldSize - 1) this.allEstablished.resolve();
  }

  /** Connector side: dials a lower rank, says hello, waits for the welcome (and the table it may carry). */
  private async dial(rank: number, address: string, retry: boolean): Promise<PeerRecord[] | null> {
    const link = await connectDuringStartup(address, { rank: this.worldRank, retry, deadlineMs: this.deadline, startup: this.startup });
    if (this.startup.failed) {
      link.destroy();
      throw this.startup.reason;
    }
    const welcomed = deferred<PeerRecord[] | null>();
    const connection = this.track(link, (_, message) => {
      if (connection.established) {
        this.onFrame(connection, message);
        return;
      }
      const table = parseWelcome(message, this.worldSize);
      if (table === undefined) {
        connection.reject(new HpckvError(ErrorCodes.PROTOCOL, `rank ${rank} at ${address} sent a malformed welcome`));
        return;
      }
      this.establish(connection);
      welcomed.resolve(table);
    });
    connection.rank = rank;
    connection.channel.send(helloFrame(this.record!, this.worldSize));
    return this.startup.guard(welcomed.promise);
  }

  /** A frame on an established connection: a message, or the peer's goodbye. */
  private onFrame(connection: SocketConnection, message: unknown): void {
    const rank = connection.rank!;
    if (isDataFrame(message)) {
      this.events.message(rank, message[0], message[1], message[2]);
    } else if (isBye(message)) {
      this.peerGone(rank, this.closedError(rank, this.describe(rank)), 'closed');
    } else {
      connection.reject(new HpckvError(ErrorCodes.PROTOCOL, `${this.describe(rank)} sent a malformed frame`));
    }
  }

  private connectionClosed(connection: SocketConnection, error?: Error): void {
    const rank = connection.rank;
    if (this.shuttingDown || rank === undefined) return;
    if (!connection.established) {
      // A dial whose handshake broke: the start-up cannot complete.
      this.startup.fail(new HpckvError(ErrorCodes.COMM, `${this.describe(rank)} closed the connection before the handshake finished`,
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
    this.startup.fail(error);
  }

  private describe(rank: number): string {
    const record = this.table?.[rank];
    return record === undefined ? `rank ${rank}` : `rank ${rank} (pid ${record.pid} on ${record.host})`;
  }

  /** For the start-up timeout: what is still missing. */
  private waitingFor(): string {
    return describeStartupWait({
      rank: this.worldRank, size: this.worldSize, rendezvous: this.options.rendezvous, listenAddress: this.options.listenAddress,
      listening: this.listener !== undefined, table: this.table, joins: this.joins, peers: this.peers,
    });
  }

  /** Graceful: a goodbye after what is queued, then end. Otherwise (failed start-up): cut everything. */
  private async shutdown(graceful: boolean): Promise<void> {
    this.shuttingDown = true;
    this.startup.fail(new HpckvError(ErrorCodes.COMM, `rank ${this.worldRank}'s endpoint was closed during start-up`));
    await endConnections(this.connections, graceful);
    await this.listener?.close();
    if ('dir' in this.options.rendezvous) await removeRecord(this.options.rendezvous.dir, this.worldRank);
  }
}
