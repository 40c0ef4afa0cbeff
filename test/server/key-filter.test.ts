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
