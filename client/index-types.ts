/**
 * The types of the secondary index API (definitions, lookups, backfill) and what a Client lends
 * its indexes, apart from the modules that implement them, so the catalog, lookups, writes and
 * backfill share them without importing one another. `client/secondary-index.ts` re-exports them.
 */
import type { GroupFile, HashPartitionSpec, RangePartitionSpec } from '../core/group-file.js';
import type { KeyValue } from '../core/keys/key-type.js';
import type { Limits } from '../core/limits.js';
import type { OpName, OpReply, OpRequest } from '../core/protocol/messages.js';
import type { KeyInput, RequestOptions, WriteOptions } from './core/options.js';
import type { Router } from './core/router.js';

export type IndexKind = 'global' | 'local';
export type IndexPartitionSpec = HashPartitionSpec | RangePartitionSpec;

export interface CreateIndexOptions {
  kind: IndexKind;
  /** Database of the records (default "default"). */
  primaryDb?: string;
  /** Database holding the index (entries, back-references, its catalog record); may be shared by indexes. */
  indexDb: string;
  /** Type of the secondary keys, text form ('float64', 'string', 'tuple(string,int32)'...). */
  keyType: string;
  /** Global only: the index's own partitioning over encoded secondary keys (default: a hash ring). */
  partition?: IndexPartitionSpec;
}

/** What the catalog record holds; two definitions are the same index when they are equal. */
export interface IndexDefinition {
  name: string;
  kind: IndexKind;
  primaryDb: string;
  indexDb: string;
  /** Canonical text form. */
  keyType: string;
  /** Global indexes only; null for local ones. */
  partition: IndexPartitionSpec | null;
}

export interface OpenIndexOptions extends RequestOptions {
  /** Where to look for the catalog record; default: every database of the group. */
  indexDb?: string;
}

export interface LookupOptions extends RequestOptions {
  /** Most records returned. */
  limit?: number;
}

/** Bounds over secondary keys (values of the index's key type). */
export interface SecondaryRange {
  gt?: KeyValue;
  gte?: KeyValue;
  lt?: KeyValue;
  lte?: KeyValue;
}

/** One match: the secondary key it was found under, the record's key (decoded) and value. */
export interface IndexMatch {
  secondaryKey: KeyValue;
  primaryKey: KeyValue;
  value: Buffer;
}

/** A record's secondary keys under an index, derived from the record (for `build`). */
export type KeyExtractor = (key: KeyValue, value: Buffer) => readonly KeyValue[] | Promise<readonly KeyValue[]>;

export interface BuildOptions extends WriteOptions {
  /** Records read and indexed at a time (default 256, at most scanPageEntriesMax). */
  pageEntries?: number;
  /** Called after every page with the counts so far. */
  onProgress?: (progress: BuildProgress) => void;
}

export interface BuildProgress {
  /** Records read from the primary database. */
  scanned: number;
  /** Records indexed. */
  indexed: number;
  /** Records skipped because they were written or deleted after they were read. */
  skipped: number;
}

/** What a Client lends its indexes: routing, key codecs and raw calls. */
export interface IndexHost {
  readonly group: GroupFile;
  readonly limits: Limits;
  call<O extends OpName>(rank: number, op: O, body: OpRequest<O>, options: RequestOptions): Promise<OpReply<O>>;
  encodeKey(key: KeyInput): Uint8Array;
  decodeKey(bytes: Uint8Array): KeyValue;
  /** Where the primary records live: the client's router (client/core/router.ts). */
  readonly router: Router;
}
