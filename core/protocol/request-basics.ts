/** The fields most requests share: which database, how a write is made durable, a key range's bounds. */

export interface DbRequest {
  /** Database name (one of the server's databases). */
  db: string;
}

export interface WriteOptionsWire {
  /** Flush LevelDB's log to disk (fsync) before answering. */
  sync?: boolean;
}

/** Bounds of a key range; at most one lower (gt/gte) and one upper (lt/lte) bound. */
export interface KeyRangeWire {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
}
