import type { WireError } from '../errors.js';
import type { DbRequest, KeyRangeWire, WriteOptionsWire } from './request-basics.js';
import type { RegionDescriptor } from '../regions/region-descriptor.js';

/**
 * Client-memory operations (RDMA style) on the wire. A client hands a server a region
 * descriptor; the server pulls the bytes it needs from the region's owner, or pushes results
 * into it, over the owner's own connection (the back channel); the request is answered as soon
 * as the server has accepted it (`{ op }`), and `regionDone` tells the issuing connection when
 * the operation completed. Layouts: core/regions/packed-pairs.ts.
 *
 * Get and scan run in two steps, because a packed layout's offsets depend on the sizes every
 * server found: `regionStage` reads and holds the results on each server and answers their
 * sizes (it is the acceptance); the client lays them out and sends each server a `regionPush`
 * saying where its values go, answered once they are in the region. Staged results expire
 * after limits.regionStageHoldMs.
 */

/** Client -> server: this connection serves the regions of `owner` (servers pull and push over it). */
export interface RegionAttachRequest {
  owner: string;
}

export interface RegionAccepted {
  /** The server's id of the operation; `regionDone` names it. */
  op: number;
}

/** Store the pairs of a region laid out as packed pairs, atomically on this server. */
export interface RegionPutRequest extends DbRequest, WriteOptionsWire {
  region: RegionDescriptor;
  /**
   * Entries of the layout this server stores, as u32 LE indices in increasing order; absent: the
   * server reads every key and stores those the group's partitioning gives it.
   */
  indices?: Uint8Array;
  /**
   * The region's bytes, sent with the request when the issuer owns a region of at most
   * limits.regionEagerBytesMax and this server takes all of it; the server then pulls nothing.
   */
  data?: Uint8Array;
}

/** Read and hold the values of keys (get) or the entries of a range (scan), for a later push. */
export interface RegionStageRequest extends DbRequest {
  /** get: the keys, as a packed list (core/wire/packed-list.ts). */
  packedKeys?: Uint8Array;
  /** scan: the range, its direction and the most entries to stage. */
  range?: KeyRangeWire & { reverse?: boolean; limit?: number };
  /** Most key + value bytes to stage (the room the region has); scan stops before it. */
  bytesMax: number;
  /**
   * get only, when every key is on this server: lay the results out and push them at once (the
   * reply is then the acceptance, and `regionDone` reports the push), one request instead of two.
   */
  push?: { region: RegionDescriptor; layout: 'packed' | 'slots'; slotBytes?: number };
}

export interface RegionStageReply extends RegionAccepted {
  /** Sizes of the staged values (u32 LE each, PACKED_ABSENT for a key not stored), in request or scan order. */
  valueSizes: Uint8Array;
  /** scan: the staged keys, as a packed list; get: null (the client has them). */
  keys: Uint8Array | null;
  /** scan: nothing more in the range on this server after the staged entries. */
  done: boolean;
}

/**
 * Where staged values go: `placements` holds three numbers per value pushed: the staged entry's
 * index, the offset for its value and the most bytes to write there (a slot's size). `block`
 * is written as it is at `blockOffset`: the layout's header (counts, sizes, and for packed pairs
 * the keys), which the client builds from the sizes every server staged, so a server sends
 * values only. Offsets are relative to the descriptor. Staged entries not placed are dropped.
 * Answered when the push completed (the operation was accepted at its stage).
 */
export interface RegionPushRequest {
  op: number;
  region: RegionDescriptor;
  placements: number[];
  block: Uint8Array | null;
  blockOffset: number;
}

/** Drops staged results without pushing them. */
export interface RegionReleaseRequest {
  op: number;
}

/** Server -> issuing client (back channel): an accepted operation completed, or failed. */
export interface RegionDoneNotice {
  op: number;
  /** Records stored (put) or entries pushed (push). */
  records: number;
  error: WireError | null;
}

/** Server -> owner (back channel): the bytes at `offset` of the region (relative to the registered region). */
export interface RegionReadRequest {
  region: number;
  offset: number;
  length: number;
}

/**
 * Server -> owner (back channel): copy item i of `data` (a packed list, core/wire/packed-list.ts)
 * to `offsets[i]` of the region (relative to the registered region).
 */
export interface RegionWriteRequest {
  region: number;
  offsets: number[];
  data: Uint8Array;
}

/**
 * Test hook (servers started with HPCKV_TEST_HOOKS=1 only): hold every transfer (the start of
 * each put, and each chunk pulled or pushed) until released, after letting `afterChunks` pass.
 */
export interface RegionTestHoldRequest {
  hold: boolean;
  afterChunks?: number;
}
