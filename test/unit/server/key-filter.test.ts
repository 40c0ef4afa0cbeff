import test from 'ava';
import { KeyFilter, type KeyFilterLayers } from '../../../server/key-filter.js';

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

test('a filter that adopts the layers of another answers exactly as it does, keeps growing, and takes the adds deferred meanwhile', (t) => {
  const filter = new KeyFilter();
  const n = 200_000; // three layers, the last one part full
  for (let i = 0; i < n; i++) filter.add(Buffer.from(`key-${i}`));
  const saved = filter.toLayers();
  t.is(saved.layers.length, 3);
  const plain = new KeyFilter();
  t.true(plain.adoptLayers(saved));
  t.is(answers(plain, n), answers(filter, n));
  const copy = new KeyFilter();
  copy.deferAdds();
  for (let i = 0; i < 1000; i++) copy.add(Buffer.from(`deferred-${i}`));
  // Copies of the words, as a summary read from disk would give them.
  t.true(copy.adoptLayers({ hashes: saved.hashes, layers: saved.layers.map((layer) => ({ ...layer, bits: layer.bits.slice() })) }));
  let deferredMissed = 0;
  for (let i = 0; i < 1000; i++) if (!copy.mightContain(Buffer.from(`deferred-${i}`))) deferredMissed++;
  t.is(deferredMissed, 0, 'the adds deferred while loading');
  t.is(copy.toLayers().layers.length, 3, 'no layer of their own');
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
  const adopts = (saved: KeyFilterLayers): boolean => new KeyFilter().adoptLayers(saved);
  t.true(adopts({ hashes, layers }));
  t.false(adopts({ hashes: hashes + 1, layers }), 'another hash count');
  t.false(adopts({ hashes, layers: [] }), 'no layer');
  t.false(adopts({ hashes, layers: [{ ...layer, bits: layer.bits.subarray(1) }] }), 'words that do not fit the capacity');
  t.false(adopts({ hashes, layers: [{ ...layer, count: layer.capacity + 1 }] }), 'more keys than the capacity');
  t.false(adopts({ hashes, layers: [{ ...layer, capacity: 0 }] }), 'no capacity');
});

test('a refused adoption changes nothing; the deferred adds then go to the own layers of the filter', (t) => {
  const filter = new KeyFilter();
  filter.deferAdds();
  filter.add(Buffer.from('during'));
  t.false(filter.adoptLayers({ hashes: 0, layers: [] }));
  filter.applyDeferredAdds();
  t.true(filter.mightContain(Buffer.from('during')));
  filter.add(Buffer.from('after'));
  t.true(filter.mightContain(Buffer.from('after')));
});
