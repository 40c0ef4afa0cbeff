import { ErrorCodes, HpckvError } from '../../core/errors.js';
import { FRAME_OVERHEAD_BYTES, type Limits } from '../../core/limits.js';
import { localOwner } from '../../core/regions/local-owners.js';
import { canRead, canWrite, checkWithin, type RegionDescriptor } from '../../core/regions/region-descriptor.js';
import { PackedListChunks } from '../../core/wire/packed-list.js';
import { TRANSFERS_IN_FLIGHT } from './region-reader.js';

/** What the region service needs of the rpc server: calls back to a client over its connection. */
export interface BackChannel {
  callPeer(connectionId: number, op: string, body: unknown, timeoutMs: number): Promise<unknown>;
}

/**
 * Moving bytes between a server and its clients' regions: which connection serves each owner's
 * regions, pulls and pushes in chunks of regionChunkBytesMax (lowered so a message fits a frame)
 * over the back channel, or directly for an owner in this process, every access checked against
 * the descriptor first. The test hook that holds transfers lives here too.
 */
export class RegionTransfers {
  readonly #backChannel: BackChannel;
  readonly #rank: number;
  readonly #requestTimeoutMs: number;
  /** Owner id -> the connection its regions are served over. */
  readonly #owners = new Map<string, number>();
  #held: Array<() => void> | null = null;
  /** Test hook: chunks still let through before transfers are held. */
  #chunksBeforeHold = 0;
  /** Bytes one pull or push message moves. */
  readonly chunkBytes: number;

  constructor(limits: Limits, rank: number, backChannel: BackChannel) {
    this.#backChannel = backChannel;
    this.#rank = rank;
    this.#requestTimeoutMs = limits.requestTimeoutMs;
    this.chunkBytes = Math.max(1, Math.min(limits.regionChunkBytesMax, limits.frameBytesMax - FRAME_OVERHEAD_BYTES));
  }

  /** The owner's regions are served over this connection from now on. */
  attach(owner: string, connectionId: number): void {
    this.#owners.set(owner, connectionId);
  }

  /** A connection closed: the owners it served are gone. */
  onConnectionClose(connectionId: number): void {
    for (const [owner, id] of this.#owners) if (id === connectionId) this.#owners.delete(owner);
  }

  /** Test hook (regionTestHold): holds every transfer from now, after letting `afterChunks` chunks pass, or releases them. */
  setHold(hold: boolean, afterChunks: number): void {
    if (hold) { this.#held ??= []; this.#chunksBeforeHold = afterChunks; return; }
    const waiting = this.#held ?? [];
    this.#held = null;
    for (const wake of waiting) wake();
  }

  /**
   * Runs before an operation starts and before every chunk it moves: resolves at once, or, while
   * the test hook holds transfers, when it releases them (after letting `afterChunks` chunks pass).
   */
  gate(): Promise<void> {
    const held = this.#held;
    if (held === null) return Promise.resolve();
    if (this.#chunksBeforeHold > 0) { this.#chunksBeforeHold--; return Promise.resolve(); }
    return new Promise((resolve) => { held.push(resolve); });
  }

  /** Bytes at `offset` (relative to the descriptor), pulled from the owner in chunks. */
  async pull(region: RegionDescriptor, offset: number, length: number): Promise<Buffer> {
    checkWithin(region, offset, length, 'pull');
    if (!canRead(region.access)) throw new HpckvError(ErrorCodes.REGION_ACCESS, 'the region was not registered for reading');
    const local = localOwner(region.owner);
    if (local !== undefined) {
      await this.gate();
      return local.read(region.region, region.offset + offset, length);
    }
    const connection = this.#ownerConnection(region.owner);
    const chunk = this.chunkBytes;
    const parts: Buffer[] = [];
    for (let at = 0; at < length; at += chunk) {
      const n = Math.min(chunk, length - at);
      await this.gate();
      const reply = await this.#backChannel.callPeer(connection, 'regionRead',
        { region: region.region, offset: region.offset + offset + at, length: n }, this.#requestTimeoutMs);
      if (!(reply instanceof Uint8Array) || reply.length !== n) {
        throw new HpckvError(ErrorCodes.PROTOCOL, `the region owner answered a ${n}-byte read with ${reply instanceof Uint8Array ? reply.length : typeof reply}`);
      }
      parts.push(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength));
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }

  /** Writes pieces (offsets relative to the descriptor) into the owner's region, in chunks. */
  async pushPieces(region: RegionDescriptor, pieces: Array<[number, Buffer]>): Promise<void> {
    if (!canWrite(region.access)) throw new HpckvError(ErrorCodes.REGION_ACCESS, 'the region was not registered for writing');
    for (const [offset, bytes] of pieces) checkWithin(region, offset, bytes.length, 'push');
    const absolute = pieces.map(([offset, bytes]): [number, Buffer] => [region.offset + offset, bytes]);
    const local = localOwner(region.owner);
    if (local !== undefined) {
      await this.gate();
      local.write(region.region, absolute);
      return;
    }
    const connection = this.#ownerConnection(region.owner);
    const chunk = this.chunkBytes;
    // Messages of up to a chunk of bytes; the bytes travel as a packed list, which the frame
    // writes from the values' own buffers (no copy on this side).
    const messages: Array<{ offsets: number[]; parts: Buffer[] }> = [];
    let current: { offsets: number[]; parts: Buffer[] } = { offsets: [], parts: [] };
    let bytes = 0;
    for (const [offset, piece] of absolute) {
      for (let at = 0; at === 0 || at < piece.length; at += chunk) {
        const part = piece.subarray(at, Math.min(piece.length, at + chunk));
        if (bytes + part.length + 8 > chunk && current.parts.length > 0) {
          messages.push(current);
          current = { offsets: [], parts: [] };
          bytes = 0;
        }
        current.offsets.push(offset + at);
        current.parts.push(part);
        bytes += part.length + 8;
        if (piece.length === 0) break;
      }
    }
    if (current.parts.length > 0) messages.push(current);
    for (let i = 0; i < messages.length; i += TRANSFERS_IN_FLIGHT) {
      await Promise.all(messages.slice(i, i + TRANSFERS_IN_FLIGHT).map(async ({ offsets, parts }) => {
        await this.gate();
        await this.#backChannel.callPeer(connection, 'regionWrite',
          { region: region.region, offsets, data: new PackedListChunks(parts) }, this.#requestTimeoutMs);
      }));
    }
  }

  #ownerConnection(owner: string): number {
    const connection = this.#owners.get(owner);
    if (connection === undefined) {
      throw new HpckvError(ErrorCodes.UNKNOWN_REGION, `region owner ${owner} is not attached to server rank ${this.#rank}`,
        { details: { owner, rank: this.#rank } });
    }
    return connection;
  }
}
