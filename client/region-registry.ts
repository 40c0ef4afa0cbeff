import { randomBytes } from 'node:crypto';
import { ErrorCodes, HpckvError } from '../core/errors.js';
import type { ClientServiceOps, ValidBackChannelRequests } from '../core/protocol/op-table.js';
import { registerLocalOwner, unregisterLocalOwner, type LocalRegionOwner } from '../core/regions/local-owners.js';
import {
  canRead, canWrite, checkRegionDescriptor, checkWithin, type RegionAccess, type RegionDescriptor,
} from '../core/regions/region-descriptor.js';

/** Memory a client may register: its bytes are read and written in place, never copied first. */
export type RegionMemory = Buffer | Uint8Array | ArrayBuffer | SharedArrayBuffer;

interface Registered {
  memory: Buffer;
  access: RegionAccess;
  /** Operations this client issued on the region that have not completed. */
  pending: number;
}

function asMemory(memory: RegionMemory): Buffer {
  if (Buffer.isBuffer(memory)) return memory;
  if (memory instanceof Uint8Array) return Buffer.from(memory.buffer, memory.byteOffset, memory.byteLength);
  if (memory instanceof ArrayBuffer || memory instanceof SharedArrayBuffer) return Buffer.from(memory);
  throw new TypeError('a region is a Buffer, Uint8Array, ArrayBuffer or SharedArrayBuffer');
}

function unknownRegion(owner: string, region: number): HpckvError {
  return new HpckvError(ErrorCodes.UNKNOWN_REGION, `owner ${owner} has no region ${region} (never registered, or deregistered)`,
    { details: { owner, region } });
}

/**
 * This client's registered memory (the RDMA registration table): a region id per buffer, with
 * its access mode. Servers reach it through the client's connections (regionRead and
 * regionWrite on the back channel) or, in the same process, directly; every access is checked
 * against the region's bounds and mode here, whatever the server asked.
 */
export class RegionRegistry implements LocalRegionOwner {
  /** The owner id servers know this client's regions by. */
  readonly owner = randomBytes(16).toString('hex');
  readonly #regions = new Map<number, Registered>();
  #nextRegion = 1;
  #listed = false;

  get size(): number {
    return this.#regions.size;
  }

  /** Registers memory and returns the descriptor of all of it. */
  register(memory: RegionMemory, access: RegionAccess = 'rw'): RegionDescriptor {
    if (access !== 'r' && access !== 'w' && access !== 'rw') throw new TypeError(`access must be 'r', 'w' or 'rw', got ${String(access)}`);
    const bytes = asMemory(memory);
    const region = this.#nextRegion++;
    this.#regions.set(region, { memory: bytes, access, pending: 0 });
    if (!this.#listed) {
      // Servers in this process use the memory directly (the co-located fast path).
      registerLocalOwner(this.owner, this);
      this.#listed = true;
    }
    return { owner: this.owner, region, offset: 0, length: bytes.length, access };
  }

  /** A descriptor of part of another: `offset` and `length` relative to it, inside it (HPCKV_ERR_REGION_BOUNDS otherwise). */
  static slice(descriptor: RegionDescriptor, offset: number, length: number): RegionDescriptor {
    const parent = checkRegionDescriptor(descriptor);
    checkWithin(parent, offset, length, 'sub-descriptor');
    return { ...parent, offset: parent.offset + offset, length };
  }

  /** Forgets a region: HPCKV_ERR_REGION_BUSY while operations this client issued on it are pending. */
  deregister(descriptor: RegionDescriptor): void {
    const d = checkRegionDescriptor(descriptor);
    const registered = this.#own(d);
    if (registered.pending > 0) {
      throw new HpckvError(ErrorCodes.REGION_BUSY, `region ${d.region} has ${registered.pending} operations pending`,
        { details: { region: d.region, pending: registered.pending } });
    }
    this.#regions.delete(d.region);
  }

  /** Whether this client owns the descriptor's region (its memory can be read here). */
  owns(descriptor: RegionDescriptor): boolean {
    return descriptor.owner === this.owner && this.#regions.has(descriptor.region);
  }

  /** The descriptor's bytes, as a view of the registered memory (the descriptor must be this client's). */
  view(descriptor: RegionDescriptor): Buffer {
    const registered = this.#own(descriptor);
    checkWithin({ ...descriptor, offset: 0, length: registered.memory.length }, descriptor.offset, descriptor.length, 'descriptor');
    return registered.memory.subarray(descriptor.offset, descriptor.offset + descriptor.length);
  }

  /** Counts an operation on a region of this client as pending (deregister refuses meanwhile). */
  acquire(descriptor: RegionDescriptor): () => void {
    const registered = this.#regions.get(descriptor.region);
    if (descriptor.owner !== this.owner || registered === undefined) return () => undefined;
    registered.pending++;
    let released = false;
    return () => { if (!released) { released = true; registered.pending--; } };
  }

  #own(descriptor: RegionDescriptor): Registered {
    const registered = descriptor.owner === this.owner ? this.#regions.get(descriptor.region) : undefined;
    if (registered === undefined) throw unknownRegion(descriptor.owner, descriptor.region);
    return registered;
  }

  #checked(region: number, offset: number, length: number, write: boolean): Registered {
    const registered = this.#regions.get(region);
    if (registered === undefined) throw unknownRegion(this.owner, region);
    if (write ? !canWrite(registered.access) : !canRead(registered.access)) {
      throw new HpckvError(ErrorCodes.REGION_ACCESS, `region ${region} is registered '${registered.access}', not for ${write ? 'writing' : 'reading'}`,
        { details: { region, access: registered.access } });
    }
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > registered.memory.length) {
      throw new HpckvError(ErrorCodes.REGION_BOUNDS, `${length} bytes at offset ${offset} are outside region ${region} (${registered.memory.length} bytes)`,
        { details: { region, offset, length, regionLength: registered.memory.length } });
    }
    return registered;
  }

  read(region: number, offset: number, length: number): Buffer {
    return this.#checked(region, offset, length, false).memory.subarray(offset, offset + length);
  }

  write(region: number, pieces: ReadonlyArray<readonly [number, Uint8Array]>): void {
    // Every piece is checked before any is copied: a bad request writes nothing.
    const registered = this.#checked(region, 0, 0, true);
    for (const [offset, bytes] of pieces) this.#checked(region, offset, bytes.length, true);
    for (const [offset, bytes] of pieces) registered.memory.set(bytes, offset);
  }

  /** Answers a server's regionRead / regionWrite (the back channel), checked by the op table's validator. */
  serve<Op extends ClientServiceOps<'regionRegistry'>>(op: Op, request: ValidBackChannelRequests[Op]): Uint8Array | null {
    if (op === 'regionRead') {
      const { region, offset, length } = request as ValidBackChannelRequests['regionRead'];
      return this.read(region, offset, length);
    }
    const { region, pieces } = request as ValidBackChannelRequests['regionWrite'];
    this.write(region, pieces);
    return null;
  }

  /** Forgets every region (the client is closing). */
  clear(): void {
    this.#regions.clear();
    if (this.#listed) unregisterLocalOwner(this.owner);
    this.#listed = false;
  }
}
