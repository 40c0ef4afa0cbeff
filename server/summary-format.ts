import { endianness } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import type { DatabaseStats } from '../core/protocol/messages.js';
import { KeyFilter, type KeyFilterLayers, type KeyFilterShape } from './key-filter.js';
import type { StoreState } from './store-state.js';

/**
 * The bytes of a store summary: what a database knew about its store when it closed cleanly.
 *
 *   0      "HPCKVSUM"                               8 bytes
 *   8      format version                           u32 LE
 *   12     header length n                          u32 LE
 *   16     header, JSON (SummaryHeader)             n bytes
 *   16+n   CRC-32 of bytes 0 .. 16+n                u32 LE
 *          zero bytes up to a multiple of 4
 *   then   each filter layer's 32-bit words, in the byte order the header names
 *   end    CRC-32 of the layers' bytes              u32 LE
 *
 * The header (state, stats, layer sizes: well under 1 KiB) is read and checked when the store
 * opens. The layers are nearly all of the file (3.3-4 bytes per key: 32 MiB for 10M keys) and
 * are read and checked in the background while the database serves, so opening costs the same
 * at any size. They stay in the writer's byte order so loading is one read and a view per layer,
 * no copy; a reader of the other byte order ignores the summary.
 */
export interface StoreSummary {
  /** The closed store this summary describes (store-state.ts). */
  state: StoreState;
  stats: DatabaseStats;
  filter: KeyFilterLayers;
}

/** Why a summary's bytes cannot be used: damaged, or written by a format this code does not read. */
export type SummaryDefect = 'corrupt' | 'version';

export const SUMMARY_FORMAT_VERSION = 1;
/** Magic, version and header length: what is read first. */
export const SUMMARY_PREFIX_BYTES = 16;

const MAGIC = Buffer.from('HPCKVSUM', 'latin1');
const CHECKSUM_BYTES = 4;
/** The layers' checksum is computed a slice per event-loop turn, so requests are not held up. */
const CHECKSUM_SLICE_BYTES = 4 << 20;

export interface SummaryHeader {
  byteOrder: 'BE' | 'LE';
  state: StoreState;
  stats: DatabaseStats;
  filter: KeyFilterShape;
}

/** A checked header and where its layers lie in the file. */
export interface SummaryLayout {
  header: SummaryHeader;
  layersAt: number;
  /** The layers' words and their checksum. */
  layersBytes: number;
}

function alignedTo4(offset: number): number {
  return (offset + 3) & ~3;
}

/** The summary's bytes as pieces to write one after another: the layers are not copied. */
export function encodeSummary(summary: StoreSummary): Buffer[] {
  const { hashes, layers } = summary.filter;
  const header: SummaryHeader = {
    byteOrder: endianness(),
    state: summary.state,
    stats: { records: summary.stats.records, keyBytes: summary.stats.keyBytes, valueBytes: summary.stats.valueBytes },
    filter: { hashes, layers: layers.map(({ capacity, count, bits }) => ({ capacity, count, words: bits.length })) },
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = SUMMARY_PREFIX_BYTES + json.length;
  const start = Buffer.alloc(alignedTo4(headerEnd + CHECKSUM_BYTES));
  MAGIC.copy(start, 0);
  start.writeUInt32LE(SUMMARY_FORMAT_VERSION, 8);
  start.writeUInt32LE(json.length, 12);
  json.copy(start, SUMMARY_PREFIX_BYTES);
  start.writeUInt32LE(crc32(start.subarray(0, headerEnd)), headerEnd);
  const words = layers.map(({ bits }) => Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength));
  const end = Buffer.alloc(CHECKSUM_BYTES);
  end.writeUInt32LE(words.reduce((crc, piece) => crc32(piece, crc), 0));
  return [start, ...words, end];
}

/** How many bytes follow the prefix up to the end of the header's checksum, or why not to read on. */
export function headerBytesAfter(prefix: Buffer): number | SummaryDefect {
  if (prefix.length < SUMMARY_PREFIX_BYTES || !prefix.subarray(0, MAGIC.length).equals(MAGIC)) return 'corrupt';
  if (prefix.readUInt32LE(8) !== SUMMARY_FORMAT_VERSION) return 'version';
  return prefix.readUInt32LE(12) + CHECKSUM_BYTES;
}

/** Checks the header (`start`: the prefix and what headerBytesAfter asked for) against a file of `fileBytes`. */
export function decodeHeader(start: Buffer, fileBytes: number): SummaryLayout | SummaryDefect {
  const after = headerBytesAfter(start);
  if (typeof after === 'string') return after;
  const headerEnd = SUMMARY_PREFIX_BYTES + after - CHECKSUM_BYTES;
  if (start.length < headerEnd + CHECKSUM_BYTES || crc32(start.subarray(0, headerEnd)) !== start.readUInt32LE(headerEnd)) return 'corrupt';
  let header: unknown;
  try {
    header = JSON.parse(start.toString('utf8', SUMMARY_PREFIX_BYTES, headerEnd));
  } catch {
    return 'corrupt';
  }
  if (!isSummaryHeader(header)) return 'corrupt';
  if (header.byteOrder !== endianness() || !KeyFilter.accepts(header.filter)) return 'version';
  const layersAt = alignedTo4(headerEnd + CHECKSUM_BYTES);
  const layersBytes = header.filter.layers.reduce((total, layer) => total + layer.words * 4, 0) + CHECKSUM_BYTES;
  if (layersAt + layersBytes !== fileBytes) return 'corrupt';
  const { state, stats, filter } = header;
  return {
    header: {
      byteOrder: header.byteOrder,
      state: { manifest: state.manifest, manifestBytes: state.manifestBytes, manifestMtimeNs: state.manifestMtimeNs },
      stats: { records: stats.records, keyBytes: stats.keyBytes, valueBytes: stats.valueBytes },
      filter: { hashes: filter.hashes, layers: filter.layers.map(({ capacity, count, words }) => ({ capacity, count, words })) },
    },
    layersAt,
    layersBytes,
  };
}

/**
 * The layers in `bytes` (layersBytes read at layersAt), as views where aligned, or 'corrupt'
 * when their checksum does not match. Yields to the event loop between checksum slices.
 */
export async function decodeLayers(layout: SummaryLayout, bytes: Buffer): Promise<KeyFilterLayers | 'corrupt'> {
  if (bytes.length !== layout.layersBytes) return 'corrupt';
  const end = bytes.length - CHECKSUM_BYTES;
  let crc = 0;
  for (let at = 0; at < end; at += CHECKSUM_SLICE_BYTES) {
    crc = crc32(bytes.subarray(at, Math.min(end, at + CHECKSUM_SLICE_BYTES)), crc);
    if (at + CHECKSUM_SLICE_BYTES < end) await nextTurn();
  }
  if (crc !== bytes.readUInt32LE(end)) return 'corrupt';
  let at = 0;
  const layers = layout.header.filter.layers.map(({ capacity, count, words }) => {
    const bits = wordsAt(bytes, at, words);
    at += words * 4;
    return { capacity, count, bits };
  });
  return { hashes: layout.header.filter.hashes, layers };
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
