import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import type { DatabaseStats } from '../core/protocol.js';
import { KeyFilter } from './key-filter.js';
import type { StoreState } from './store-state.js';

/**
 * The bytes of a store summary: what a database knew about its store when it closed cleanly.
 *
 *   0   "HPCKVSUM"                        8 bytes
 *   8   format version                   u32 LE
 *   12  header length n                  u32 LE
 *   16  header, JSON (SummaryHeader)     n bytes, then zero bytes up to a multiple of 4
 *   ..  each filter layer's 32-bit words, in the byte order the header names
 *   end CRC-32 of every byte before it   u32 LE
 *
 * The words stay in the writer's byte order so that loading is one read and a view per layer,
 * no copy (10M keys: a 32 MiB filter); a reader of the other byte order ignores the summary.
 */
export interface StoreSummary {
  /** The closed store this summary describes (store-state.ts). */
  state: StoreState;
  stats: DatabaseStats;
  filter: KeyFilter;
}

/** Why a summary's bytes cannot be used: damaged, or written by a format this code does not read. */
export type SummaryDefect = 'corrupt' | 'version';

export const SUMMARY_FORMAT_VERSION = 1;

const MAGIC = Buffer.from('HPCKVSUM', 'latin1');
const HEADER_AT = 16;
const CHECKSUM_BYTES = 4;

interface SummaryHeader {
  byteOrder: 'BE' | 'LE';
  state: StoreState;
  stats: DatabaseStats;
  filter: { hashes: number; layers: Array<{ capacity: number; count: number; words: number }> };
}

function alignedTo4(offset: number): number {
  return (offset + 3) & ~3;
}

export function encodeSummary(summary: StoreSummary): Buffer {
  const { hashes, layers } = summary.filter.toLayers();
  const header: SummaryHeader = {
    byteOrder: endianness(),
    state: summary.state,
    stats: { records: summary.stats.records, keyBytes: summary.stats.keyBytes, valueBytes: summary.stats.valueBytes },
    filter: { hashes, layers: layers.map(({ capacity, count, bits }) => ({ capacity, count, words: bits.length })) },
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const wordsAt = alignedTo4(HEADER_AT + json.length);
  const length = layers.reduce((end, layer) => end + layer.bits.byteLength, wordsAt) + CHECKSUM_BYTES;
  const bytes = Buffer.alloc(length);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(SUMMARY_FORMAT_VERSION, 8);
  bytes.writeUInt32LE(json.length, 12);
  json.copy(bytes, HEADER_AT);
  let at = wordsAt;
  for (const { bits } of layers) {
    bytes.set(new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength), at);
    at += bits.byteLength;
  }
  bytes.writeUInt32LE(crc32(bytes.subarray(0, at)), at);
  return bytes;
}

/** The summary in `bytes`, or why it cannot be used. Layers are views of `bytes` where aligned. */
export function decodeSummary(bytes: Buffer): StoreSummary | SummaryDefect {
  if (bytes.length < HEADER_AT + CHECKSUM_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return 'corrupt';
  if (bytes.readUInt32LE(8) !== SUMMARY_FORMAT_VERSION) return 'version';
  const end = bytes.length - CHECKSUM_BYTES;
  if (crc32(bytes.subarray(0, end)) !== bytes.readUInt32LE(end)) return 'corrupt';
  const jsonLength = bytes.readUInt32LE(12);
  if (HEADER_AT + jsonLength > end) return 'corrupt';
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString('utf8', HEADER_AT, HEADER_AT + jsonLength));
  } catch {
    return 'corrupt';
  }
  if (!isSummaryHeader(header)) return 'corrupt';
  if (header.byteOrder !== endianness()) return 'version';
  let at = alignedTo4(HEADER_AT + jsonLength);
  const layers: Array<{ capacity: number; count: number; bits: Uint32Array }> = [];
  for (const { capacity, count, words } of header.filter.layers) {
    if (at + words * 4 > end) return 'corrupt';
    layers.push({ capacity, count, bits: wordsAt(bytes, at, words) });
    at += words * 4;
  }
  if (at !== end) return 'corrupt';
  const filter = KeyFilter.fromLayers({ hashes: header.filter.hashes, layers });
  if (filter === null) return 'version';
  const { state, stats } = header;
  return {
    state: { manifest: state.manifest, manifestBytes: state.manifestBytes, manifestMtimeNs: state.manifestMtimeNs },
    stats: { records: stats.records, keyBytes: stats.keyBytes, valueBytes: stats.valueBytes },
    filter,
  };
}

/** `words` 32-bit words at `at`: a view when the offset allows one, else a copy. */
function wordsAt(bytes: Buffer, at: number, words: number): Uint32Array {
  if ((bytes.byteOffset + at) % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset + at, words);
  const copy = new Uint32Array(words);
  new Uint8Array(copy.buffer).set(bytes.subarray(at, at + words * 4));
  return copy;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSummaryHeader(value: unknown): value is SummaryHeader {
  if (!isRecord(value) || (value['byteOrder'] !== 'LE' && value['byteOrder'] !== 'BE')) return false;
  const { state, stats, filter } = value;
  if (!isRecord(state) || typeof state['manifest'] !== 'string' || !isCount(state['manifestBytes'])
    || typeof state['manifestMtimeNs'] !== 'string') return false;
  if (!isRecord(stats) || !isCount(stats['records']) || !isCount(stats['keyBytes']) || !isCount(stats['valueBytes'])) return false;
  if (!isRecord(filter) || !isCount(filter['hashes']) || !Array.isArray(filter['layers'])) return false;
  return filter['layers'].every((layer: unknown) => isRecord(layer)
    && isCount(layer['capacity']) && isCount(layer['count']) && isCount(layer['words']));
}
