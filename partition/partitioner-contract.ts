// The contract every partition scheme implements, apart from createPartitioner (which builds the
// schemes) so the schemes import their contract without importing each other.

/** One end of a key range: an encoded key and whether the range includes it. */
export interface KeyBound {
  key: Uint8Array;
  inclusive: boolean;
}

/**
 * What every partition scheme gives the client and the servers: the owner of a key. It is pure
 * (no I/O) and deterministic, so every client and server that builds one from the same group file
 * routes every key the same way.
 */
export interface Partitioner {
  /** The scheme's name as written in the group file (`'hash'`, `'range'`, `'slices'`). */
  readonly scheme: string;
  /** Servers are numbered 0..serverCount-1 (their ranks in the group file). */
  readonly serverCount: number;
  /** Rank of the server that owns `key`. */
  serverFor(key: Uint8Array): number;
  /**
   * The servers holding keys of a range (absent bound = open end), in key order, so an ordered
   * scan can visit them one after another; undefined (or no method, as for hash) when keys of the
   * range interleave across servers and the scan must merge all servers.
   */
  serversInOrder?(lo?: KeyBound, hi?: KeyBound): number[] | undefined;
}
