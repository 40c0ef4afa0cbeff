import test, { type ExecutionContext } from 'ava';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { KeyFilter, type KeyFilterLayers } from '../../../server/key-filter.js';
import {
  decodeHeader, decodeLayers, encodeSummary, SUMMARY_FORMAT_VERSION, type SummaryDefect, type SummaryHeader,
} from '../../../server/summary-format.js';

const STATE = { manifest: 'MANIFEST-000012', manifestBytes: 4321, manifestMtimeNs: '1700000000123456789' };
const STATS = { records: 100_000, keyBytes: 1_088_890, valueBytes: 10_000_000 };

function filterOf(keys: number): KeyFilter {
  const filter = new KeyFilter();
  for (let i = 0; i < keys; i++) filter.add(Buffer.from(`key-${i}`));
  return filter;
}

function encoded(filter: KeyFilter): Buffer {
  return Buffer.concat(encodeSummary({ state: STATE, stats: STATS, filter: filter.toLayers() }));
}

/** Header and layers of a whole summary file, as the store reads them (header first, layers later). */
async function decode(bytes: Buffer): Promise<{ header: SummaryHeader; layers: KeyFilterLayers } | SummaryDefect> {
  const layout = decodeHeader(bytes, bytes.length);
  if (typeof layout === 'string') return layout;
  const layers = await decodeLayers(layout, bytes.subarray(layout.layersAt));
  return layers === 'corrupt' ? layers : { header: layout.header, layers };
}

async function decoded(t: ExecutionContext, bytes: Buffer): Promise<KeyFilter> {
  const summary = await decode(bytes);
  if (typeof summary === 'string') throw new Error(`refused: ${summary}`);
  t.deepEqual(summary.header.state, STATE);
  t.deepEqual(summary.header.stats, STATS);
  const filter = new KeyFilter();
  t.true(filter.adoptLayers(summary.layers));
  return filter;
}

/** The summary with its JSON header edited and right checksums, as a writer of another kind would make it. */
function withHeader(bytes: Buffer, edit: (header: Record<string, unknown>) => void): Buffer {
  const length = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + length)) as Record<string, unknown>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const aligned = (offset: number): number => (offset + 3) & ~3;
  const start = Buffer.alloc(aligned(16 + json.length + 4));
  bytes.copy(start, 0, 0, 12);
  start.writeUInt32LE(json.length, 12);
  json.copy(start, 16);
  start.writeUInt32LE(crc32(start.subarray(0, 16 + json.length)), 16 + json.length);
  return Buffer.concat([start, bytes.subarray(aligned(16 + length + 4))]);
}

test('a summary decodes to the same state, stats and filter answers, its layers views of the bytes read', async (t) => {
  const original = filterOf(150_000);
  const bytes = encoded(original);
  const filter = await decoded(t, bytes);
  let missed = 0;
  for (let i = 0; i < 150_000; i++) if (!filter.mightContain(Buffer.from(`key-${i}`))) missed++;
  t.is(missed, 0);
  let differ = 0;
  for (let i = 0; i < 50_000; i++) {
    const key = Buffer.from(`other-${i}`);
    if (filter.mightContain(key) !== original.mightContain(key)) differ++;
  }
  t.is(differ, 0, 'never-added keys get the same answers');
  t.is(filter.toLayers().layers[0]!.bits.buffer, bytes.buffer, 'loading copies no layer');
});

test('a summary at an offset that allows no word view is copied and still decodes', async (t) => {
  const bytes = encoded(filterOf(1000));
  const shifted = Buffer.alloc(bytes.length + 1);
  bytes.copy(shifted, 1);
  const filter = await decoded(t, shifted.subarray(1));
  t.true(filter.mightContain(Buffer.from('key-999')));
});

test('any damaged byte, a cut or a grown file is corrupt', async (t) => {
  const bytes = encoded(filterOf(1000));
  const offsets = [0, 9, 13, 20, 60, bytes.length - 300, bytes.length - 5, bytes.length - 1];
  for (const at of offsets) {
    const damaged = Buffer.from(bytes);
    damaged[at]! ^= 0x10;
    t.is(await decode(damaged), at >= 8 && at < 12 ? 'version' : 'corrupt', `byte ${at}`);
  }
  t.is(await decode(bytes.subarray(0, bytes.length - 4)), 'corrupt');
  t.is(await decode(Buffer.concat([bytes, Buffer.alloc(4)])), 'corrupt');
  t.is(await decode(Buffer.alloc(0)), 'corrupt');
  t.is(await decode(Buffer.from('HPCKVSUM')), 'corrupt');
});

test('another format version, byte order or filter make is refused as a version', async (t) => {
  const bytes = encoded(filterOf(1000));
  const other = Buffer.from(bytes);
  other.writeUInt32LE(SUMMARY_FORMAT_VERSION + 1, 8);
  t.is(await decode(other), 'version');
  const otherOrder = endianness() === 'LE' ? 'BE' : 'LE';
  t.is(await decode(withHeader(bytes, (header) => { header['byteOrder'] = otherOrder; })), 'version');
  t.is(await decode(withHeader(bytes, (header) => { (header['filter'] as { hashes: number }).hashes = 8; })), 'version');
});

test('a checksummed header of the wrong shape, or naming more words than the file holds, is corrupt', async (t) => {
  const bytes = encoded(filterOf(1000));
  await t.notThrowsAsync(decoded(t, withHeader(bytes, () => undefined)), 'the rebuilding itself keeps a summary valid');
  t.is(await decode(withHeader(bytes, (header) => { (header['stats'] as { records: number }).records = -1; })), 'corrupt');
  t.is(await decode(withHeader(bytes, (header) => { header['state'] = 'MANIFEST-000012'; })), 'corrupt');
  t.is(await decode(withHeader(bytes, (header) => { delete header['filter']; })), 'corrupt');
  t.is(await decode(withHeader(bytes, (header) => {
    (header['filter'] as { layers: Array<{ capacity: number; words: number }> }).layers.push({ capacity: 65536, words: 32768 });
  })), 'corrupt');
});
