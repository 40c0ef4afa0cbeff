/**
 * What socket-backend peers say to each other. Every frame is one msgpack message:
 *
 *   connector -> acceptor, first frame:  { hello: PeerRecord, size }
 *   acceptor -> connector, first frame:  { welcome: PeerRecord[] | null }   (the table, from a root)
 *   then, both ways:                     [context, tag, data]               (a message)
 *   last frame before a graceful close:  { bye: true }
 *
 * The acceptor answers a hello only once it knows the whole address table, so a connected peer
 * knows that nobody still needs the rendezvous (files may then be removed).
 */

/** Where the ranks of a socket world meet: a shared directory of rendezvous files, or rank 0's address. */
export type SocketRendezvous = { dir: string } | { rootAddress: string };

/** One rank's entry in the address table (and its rendezvous file). */
export interface PeerRecord {
  rank: number;
  /** Where it listens: unix:///PATH or tcp://HOST:PORT. */
  address: string;
  /** Machine name, for error messages. */
  host: string;
  pid: number;
}

export type DataFrame = [context: string, tag: number, data: unknown];

export function helloFrame(record: PeerRecord, size: number): unknown {
  return { hello: record, size };
}

export function welcomeFrame(table: readonly PeerRecord[] | null): unknown {
  return { welcome: table };
}

export const BYE_FRAME: unknown = { bye: true };

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A valid record for a world of `size`, or undefined. */
export function parsePeerRecord(value: unknown, size: number): PeerRecord | undefined {
  if (!isRecordObject(value)) return undefined;
  const { rank, address, host, pid } = value;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 0 || rank >= size) return undefined;
  if (typeof address !== 'string' || !/^(tcp|unix):\/\//.test(address)) return undefined;
  if (typeof host !== 'string' || typeof pid !== 'number') return undefined;
  return { rank, address, host, pid };
}

export function parseHello(message: unknown, size: number): PeerRecord | undefined {
  if (!isRecordObject(message) || message['size'] !== size) return undefined;
  return parsePeerRecord(message['hello'], size);
}

/** The table of a welcome (null when the acceptor sent none), or undefined if malformed. */
export function parseWelcome(message: unknown, size: number): PeerRecord[] | null | undefined {
  if (!isRecordObject(message) || !('welcome' in message)) return undefined;
  const table = message['welcome'];
  if (table === null) return null;
  if (!Array.isArray(table) || table.length !== size) return undefined;
  const records = table.map((entry) => parsePeerRecord(entry, size));
  return records.every((record, rank) => record?.rank === rank) ? records as PeerRecord[] : undefined;
}

export function isBye(message: unknown): boolean {
  return isRecordObject(message) && message['bye'] === true;
}

export function isDataFrame(message: unknown): message is DataFrame {
  return Array.isArray(message) && message.length === 3 && typeof message[0] === 'string' && Number.isInteger(message[1]);
}
