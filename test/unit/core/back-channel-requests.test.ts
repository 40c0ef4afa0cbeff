// What a server sends on a client's connection is checked before it touches registered memory
// or resolves a handle: each back-channel op's validator, reached through the op table.
import test from 'ava';
import { ErrorCodes } from '../../../core/errors.js';
import { codeOf } from '../../support/code-of.js';
import { clientOp } from '../../../core/protocol/op-table.js';
import { packList } from '../../../core/wire/packed-list.js';

test('well-formed back-channel requests come out checked', (t) => {
  t.deepEqual(clientOp('regionRead').validate({ region: 3, offset: 8, length: 16 }), { region: 3, offset: 8, length: 16 });
  const data = packList([Buffer.from('ab'), Buffer.from('c')]);
  t.deepEqual(clientOp('regionWrite').validate({ region: 1, offsets: [0, 10], data }), { region: 1, pieces: [[0, Buffer.from('ab')], [10, Buffer.from('c')]] });
  t.deepEqual(clientOp('regionDone').validate({ op: 5, records: 2, error: null }), { op: 5, records: 2, error: null });
  t.deepEqual(clientOp('procDone').validate({ job: 9, state: 'done' }), { job: 9, state: 'done' });
});

test('malformed back-channel requests are BAD_REQUEST', (t) => {
  const bad: Array<[string, unknown]> = [
    ['regionRead', { region: 1, offset: -1, length: 4 }],
    ['regionRead', { region: 'x', offset: 0, length: 4 }],
    ['regionRead', null],
    ['regionWrite', { region: 1, offsets: [0, 1], data: packList([Buffer.from('a')]) }],
    ['regionWrite', { region: 1, offsets: [0.5], data: packList([Buffer.from('a')]) }],
    ['regionWrite', { region: 1, offsets: [0], data: 'a' }],
    ['regionDone', { op: 0, records: 1, error: null }],
    ['regionDone', { op: 1, records: -1, error: null }],
    ['regionDone', { op: 1, records: 1, error: 'boom' }],
    ['procDone', { job: 1, state: 'exploded' }],
    ['procDone', { state: 'done' }],
  ];
  for (const [op, body] of bad) t.is(codeOf(() => clientOp(op).validate(body)), ErrorCodes.BAD_REQUEST, `${op} ${JSON.stringify(body)}`);
});
