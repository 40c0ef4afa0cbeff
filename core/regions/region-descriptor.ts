import { ErrorCodes, HpckvError } from '../errors.js';

/** What a region lets a server do with it: pull from it (r), push into it (w), or both. */
export type RegionAccess = 'r' | 'w' | 'rw';

/**
 * A registered client buffer, or a slice of one, as it travels to servers: a plain,
 * serializable record (an RDMA memory key plus address and length). `owner` names the client
 * process that holds the memory; it need not be the client that issues the operation (proxy
 * put). Offsets and lengths are in bytes within the registered region.
 */
export interface RegionDescriptor {
  owner: string;
  region: number;
  offset: number;
  length: number;
  access: RegionAccess;
}

/** Largest region offset or length: what a double holds exactly, so no byte is ever misaddressed. */
const OFFSET_MAX = Number.MAX_SAFE_INTEGER;

export function canRead(access: RegionAccess): boolean {
  return access === 'r' || access === 'rw';
}

export function canWrite(access: RegionAccess): boolean {
  return access === 'w' || access === 'rw';
}

function bad(what: string): never {
  throw new HpckvError(ErrorCodes.BAD_REQUEST, `region descriptor: ${what}`);
}

/** Checks a descriptor that came off the wire (or from a caller) and returns a clean copy. */
export function checkRegionDescriptor(value: unknown): RegionDescriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not an object');
  const d = value as Record<string, unknown>;
  if (typeof d['owner'] !== 'string' || !/^[0-9a-f]{32}$/.test(d['owner'])) bad('owner must be a 32-digit hex id');
  for (const field of ['region', 'offset', 'length'] as const) {
    const n = d[field];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > OFFSET_MAX) bad(`${field} must be an integer >= 0`);
  }
  if (d['access'] !== 'r' && d['access'] !== 'w' && d['access'] !== 'rw') bad(`access must be 'r', 'w' or 'rw'`);
  if ((d['offset'] as number) + (d['length'] as number) > OFFSET_MAX) bad('offset + length is too large');
  return { owner: d['owner'], region: d['region'] as number, offset: d['offset'] as number, length: d['length'] as number, access: d['access'] };
}

/**
 * A transfer of `length` bytes at `offset` relative to the descriptor must stay inside it: the
 * check both client and server make before any byte moves (HPCKV_ERR_REGION_BOUNDS otherwise).
 */
export function checkWithin(descriptor: RegionDescriptor, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > descriptor.length) {
    throw new HpckvError(ErrorCodes.REGION_BOUNDS,
      `${what}: ${length} bytes at offset ${offset} do not fit the descriptor's ${descriptor.length} bytes`,
      { details: { offset, length, descriptorLength: descriptor.length } });
  }
}
