import test from 'ava';
import { KeyFilter } from '../../server/key-filter.js';

test('the key filter never forgets a key and rarely claims one it never saw, across growth', (t) => {
  const filter = new KeyFilter();
  const n = 300_000; // several layers (the first holds 65536 keys)
  for (let i = 0; i < n; i++) filter.add(Buffer.from(`key-${i}`));
  let missed = 0;
  for (let i = 0; i < n; i++) if (!filter.mightContain(Buffer.from(`key-${i}`))) missed++;
  t.is(missed, 0);
  let falsePositives = 0;
  const probes = 100_000;
  for (let i = 0; i < probes; i++) if (filter.mightContain(Buffer.from(`other-${i}`))) falsePositives++;
  // About 1% per layer at 10 bits and 7 hashes; 3 layers here, so a few percent at most.
  t.true(falsePositives / probes < 0.05, `false positive rate ${falsePositives / probes}`);
  t.true(filter.bytes < n * 4, `memory ${filter.bytes} bytes for ${n} keys`);
});

test('an empty filter contains nothing', (t) => {
  const filter = new KeyFilter();
  t.false(filter.mightContain(Buffer.from('x')));
  filter.add(Buffer.from('x'));
  t.true(filter.mightContain(Buffer.from('x')));
});

/** The answers of `filter` for keys 0..n-1 (all added) and as many never added. */
function answers(filter: KeyFilter, n: number): string {
  let bits = '';
  for (let i = 0; i < n; i++) bits += filter.mightContain(Buffer.from(`key-${i}`)) ? '1' : '0';
  for (let i = 0; i < n; i++) bits += filter.mightContain(Buffer.from(`other-${i}`)) ? '1' : '0';
  return bits;
}

test('a filter rebuilt from its layers answers exactly as the original, and keeps growing', (t) => {
  const filter = new KeyFilter();
  const n = 200_000; // three layers, the last one part full
  for (let i = 0; i < n; i++) filter.add(Buffer.from(`key-${i}`));
  const saved = filter.toLayers();
  t.is(saved.layers.length, 3);
  // Copies of the words, as a summary read from disk would give them.
  const copy = KeyFilter.fromLayers({ hashes: saved.hashes, layers: saved.layers.map((layer) => ({ ...layer, bits: layer.bits.slice() })) });
  if (copy === null) return t.fail('the layers were refused');
  t.is(answers(copy, n), answers(filter, n));
  t.is(copy.bytes, filter.bytes);
  for (let i = n; i < 3 * n; i++) copy.add(Buffer.from(`key-${i}`));
  let missed = 0;
  for (let i = 0; i < 3 * n; i++) if (!copy.mightContain(Buffer.from(`key-${i}`))) missed++;
  t.is(missed, 0);
  t.true(copy.toLayers().layers.length > 3, 'it grew new layers after the load');
});

test('layers this code would not build are refused (a wrong filter could call a stored key new)', (t) => {
  const filter = new KeyFilter();
  filter.add(Buffer.from('x'));
  const { hashes, layers } = filter.toLayers();
  const layer = layers[0]!;
  t.not(KeyFilter.fromLayers({ hashes, layers }), null);
  t.is(KeyFilter.fromLayers({ hashes: hashes + 1, layers }), null, 'another hash count');
  t.is(KeyFilter.fromLayers({ hashes, layers: [] }), null, 'no layer');
  t.is(KeyFilter.fromLayers({ hashes, layers: [{ ...layer, bits: layer.bits.subarray(1) }] }), null, 'words that do not fit the capacity');
  t.is(KeyFilter.fromLayers({ hashes, layers: [{ ...layer, count: layer.capacity + 1 }] }), null, 'more keys than the capacity');
  t.is(KeyFilter.fromLayers({ hashes, layers: [{ ...layer, capacity: 0 }] }), null, 'no capacity');
});
