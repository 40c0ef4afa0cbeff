/**
 * The co-located fast path: region owners living in this process, by owner id. A server in
 * the same process as the owner (in-process transport, or an embedded server personality)
 * reads and writes the owner's memory directly instead of sending pull and push messages to it.
 * Both sides check bounds and access exactly as over the wire.
 */
export interface LocalRegionOwner {
  /** A view of `length` bytes at `offset` of region `region` (checked: bounds, read access). */
  read(region: number, offset: number, length: number): Buffer;
  /** Copies each piece's bytes to its offset in region `region` (checked: bounds, write access). */
  write(region: number, pieces: ReadonlyArray<readonly [number, Uint8Array]>): void;
}

const owners = new Map<string, LocalRegionOwner>();

export function registerLocalOwner(owner: string, accessor: LocalRegionOwner): void {
  owners.set(owner, accessor);
}

export function unregisterLocalOwner(owner: string): void {
  owners.delete(owner);
}

export function localOwner(owner: string): LocalRegionOwner | undefined {
  return owners.get(owner);
}
