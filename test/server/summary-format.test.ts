import test from 'ava';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { KeyFilter } from '../../server/key-filter.js';
import { decodeSummary, encodeSummary, SUMMARY_FORMAT_VERSION, type StoreSummary } from '../../server/summary-format.js';

const STATE = { manifest: 'MANIFEST-000012', manifestBytes: 4321, manifestMtimeNs: '1700000000123456789' };
const STATS = { records: 100_000, keyBytes: 1_088_890, valueBytes: 10_000_000 };

function summaryOf(keys: number): StoreSummary {
  const filter = new KeyFilter();
  for (let i = 0; i < keys; i++) filter.add(Buffer.from(`key-${i}`));
  return { state: STATE, stats: STATS, filter };
}

function decoded(t: import('ava').ExecutionContext, bytes: Buffer): StoreSummary {
  const summary = decodeSummary(bytes);
  if (typeof summary === 'string') throw new Error(`refused: ${summary}`);
  t.deepEqual(summary.state, STATE);
  t.deepEqual(summary.stats, STATS);
  return summary;
}

/** The summary with its JSON header edited and a right checksum, as a writer of another kind would make it. */
function withHeader(bytes: Buffer, edit: (header: Record<string, unknown>) => void): Buffer {
  const length = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + length)) as Record<string, unknown>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const aligned = (offset: number): number => (offset + 3) & ~3;
  const prefix = Buffer.alloc(aligned(16 + json.length));
  bytes.copy(prefix, 0, 0, 12);
  prefix.writeUInt32LE(json.length, 12);
  json.copy(prefix, 16);
  const rebuilt = Buffer.concat([prefix, bytes.subarray(aligned(16 + length), bytes.length - 4), Buffer.alloc(4)]);
  rebuilt.writeUInt32LE(crc32(rebuilt.subarray(0, rebuilt.length - 4)), rebuilt.length - 4);
  return rebuilt;
}

test('a summary decodes to the same state, stats and filter answers', (t) => {
  const original = summaryOf(150_000);
  const bytes = encodeSummary(original);
  const summary = decoded(t, bytes);
  let missed = 0;
  for (let i = 0; i < 150_000; i++) if (!summary.filter.mightContain(Buffer.from(`key-${i}`))) missed++;
  t.is(missed, 0);
  let same = true;
  for (let i = 0; i < 50_000 && same; i++) {
    const key = Buffer.from(`other-${i}`);
    same = summary.filter.mightContain(key) === original.filter.mightContain(key);
  }
  t.true(same, 'never-added keys get the same answers');
  // The layers are views of the bytes read, not copies: loading costs one read.
  t.is(summary.filter.toLayers().layers[0]!.bits.buffer, bytes.buffer);
});

test('a summary at an offset that allows no word view is copied and still decodes', (t) => {
  const bytes = encodeSummary(summaryOf(1000));
  const shifted = Buffer.alloc(bytes.length + 1);
  bytes.copy(shifted, 1);
  const summary = decoded(t, shifted.subarray(1));
  t.true(summary.filter.mightContain(Buffer.from('key-999')));
});

test('any damaged byte, a cut or a grown file is corrupt', (t) => {
  const bytes = encodeSummary(summaryOf(1000));
  const offsets = [0, 9, 13, 20, 60, bytes.length - 300, bytes.length - 5, bytes.length - 1];
  for (const at of offsets) {
    const damaged = Buffer.from(bytes);
    damaged[at]! ^= 0x10;
    t.is(decodeSummary(damaged), at >= 8 && at < 12 ? 'version' : 'corrupt', `byte ${at}`);
  }
  t.is(decodeSummary(bytes.subarray(0, bytes.length - 4)), 'corrupt');
  t.is(decodeSummary(Buffer.concat([bytes, Buffer.alloc(4)])), 'corrupt');
  t.is(decodeSummary(Buffer.alloc(0)), 'corrupt');
  t.is(decodeSummary(Buffer.from('HPCKVSUM')), 'corrupt');
});

test('another format version, byte order or filter make is refused as a version', (t) => {
  const bytes = encodeSummary(summaryOf(1000));
  const other = Buffer.from(bytes);
  other.writeUInt32LE(SUMMARY_FORMAT_VERSION + 1, 8);
  t.is(decodeSummary(other), 'version');
  const otherOrder = endianness() === 'LE' ? 'BE' : 'LE';
  t.is(decodeSummary(withHeader(bytes, (header) => { header['byteOrder'] = otherOrder; })), 'version');
  t.is(decodeSummary(withHeader(bytes, (header) => { (header['filter'] as { hashes: number }).hashes = 8; })), 'version');
});

test('a checksummed header of the wrong shape, or naming more words than the file holds, is corrupt', (t) => {
  const bytes = encodeSummary(summaryOf(1000));
  t.notThrows(() => decoded(t, withHeader(bytes, () => undefined)), 'the rebuilding itself keeps a summary valid');
  t.is(decodeSummary(withHeader(bytes, (header) => { (header['stats'] as { records: number }).records = -1; })), 'corrupt');
  t.is(decodeSummary(withHeader(bytes, (header) => { header['state'] = 'MANIFEST-000012'; })), 'corrupt');
  t.is(decodeSummary(withHeader(bytes, (header) => { delete header['filter']; })), 'corrupt');
  t.is(decodeSummary(withHeader(bytes, (header) => {
    (header['filter'] as { layers: Array<{ words: number }> }).layers[0]!.words *= 2;
  })), 'corrupt');
});
