/**
 * The types of the client-memory (region) operations: their options and results, and what they
 * need of their Client, apart from RegionOps so the modules that stage and push (and procedure
 * handles, which write into regions) share them without importing RegionOps.
 * `client/region-ops.ts` re-exports them.
 */
import type { KeyValue } from '../core/keys/key-type.js';
import type { Limits } from '../core/limits.js';
import type { KeyRangeWire, OpName, OpReply, OpRequest } from '../core/protocol/messages.js';
import type { RegionStageReply } from '../core/protocol/region-messages.js';
import type { RegionDescriptor } from '../core/regions/region-descriptor.js';
import type { Router } from './core/router.js';
import type { RegionCompletions } from './region-handle.js';
import type { RegionRegistry } from './region-registry.js';

/** What the region operations need of their Client. */
export interface RegionHost {
  readonly limits: Limits;
  /** Which server owns a key, and the servers of a range (client/core/router.ts). */
  readonly router: Router;
  readonly registry: RegionRegistry;
  readonly completions: RegionCompletions;
  call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: RegionCallOptions): Promise<OpReply<O>>;
  /** Makes sure every server can reach this client's regions (regionAttach on every connection). */
  attachOwner(): Promise<void>;
  decodeKey(bytes: Uint8Array): KeyValue;
}

export interface RegionCallOptions {
  db?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RegionPutOptions extends RegionCallOptions {
  sync?: boolean;
}

export interface RegionGetOptions extends RegionCallOptions {
  /** 'packed' (default): the packed-pairs layout; 'slots': u32 sizes, then one slot of `slotBytes` per key. */
  layout?: 'packed' | 'slots';
  slotBytes?: number;
}

export interface RegionScanOptions extends RegionCallOptions, KeyRangeWire {
  reverse?: boolean;
  /** Most entries written. */
  limit?: number;
}

/** Where execute's `into` writes (RegionOps.intoRegion). */
export interface RegionIntoTarget {
  readonly region: RegionDescriptor;
  write(staged: Array<{ rank: number; reply: RegionStageReply }>, reverse: boolean): Promise<RegionScanResult>;
  discard(staged: Array<{ rank: number; reply: RegionStageReply }>): Promise<void>;
  release(): void;
}

export interface RegionScanResult {
  /** Entries written into the region (packed-pairs layout). */
  count: number;
  /** Bytes of the region the layout takes. */
  bytes: number;
  /**
   * The last key written when the range holds more than fitted (continue with `gt` of it, or
   * `lt` for a reverse scan); undefined when the whole range was written.
   */
  resume: KeyValue | undefined;
}
