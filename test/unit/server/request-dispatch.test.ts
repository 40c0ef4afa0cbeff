// The server's one dispatch: the op table finds the service and the check; a service sees only
// checked requests, and the refusals before it (unknown op, test-only op, closing) are typed.
import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { codeOf } from '../../support/code-of.js';
import { resolveLimits } from '../../../core/limits.js';
import { SERVER_OPS } from '../../../core/protocol/op-table.js';
import { createRequestDispatch, type DispatchOptions } from '../../../server/request-dispatch.js';

const limits = resolveLimits({ keyBytesMax: 8 });
const validation = { limits, ownsDatabase: (name: string) => name === 'default' };

function dispatchWith(overrides: Partial<DispatchOptions> = {}) {
  const seen: Array<[string, unknown, number]> = [];
  const record = (op: string, request: unknown, connectionId: number) => {
    seen.push([op, request, connectionId]);
    return 'answered';
  };
  const dispatch = createRequestDispatch({
    rank: 2, testHooks: false, validation, closing: () => false,
    services: { kv: record, stagedPuts: record, regions: record, procedures: record, process: () => null },
    ...overrides,
  });
  return { dispatch, seen };
}

test('a service receives the checked request: keys as Buffers, defaults filled in, the connection it came on', (t) => {
  const { dispatch, seen } = dispatchWith();
  t.is(dispatch('put', { db: 'default', key: new Uint8Array([1, 2]), value: new Uint8Array([3]) }, 7), 'answered');
  t.is(seen.length, 1);
  const [op, request, connectionId] = seen[0]!;
  t.is(op, 'put');
  t.is(connectionId, 7);
  t.deepEqual(request, { db: 'default', key: Buffer.from([1, 2]), value: Buffer.from([3]), sync: false });
  t.true(Buffer.isBuffer((request as { key: unknown }).key));
});

test('bad bodies never reach a service: BAD_REQUEST, the limit code, UNKNOWN_DATABASE', (t) => {
  const { dispatch, seen } = dispatchWith();
  t.is(codeOf(() => dispatch('get', [1, 2], 0)), ErrorCodes.BAD_REQUEST);
  t.is(codeOf(() => dispatch('get', { db: 'default', key: new Uint8Array(0) }, 0)), ErrorCodes.BAD_REQUEST);
  t.is(codeOf(() => dispatch('get', { db: 'default', key: new Uint8Array(9) }, 0)), ErrorCodes.KEY_TOO_LARGE);
  t.is(codeOf(() => dispatch('get', { db: 'other', key: new Uint8Array(1) }, 0)), ErrorCodes.UNKNOWN_DATABASE);
  t.is(codeOf(() => dispatch('procPoll', { job: 0 }, 0)), ErrorCodes.BAD_REQUEST);
  t.is(codeOf(() => dispatch('regionRelease', { op: 'x' }, 0)), ErrorCodes.BAD_REQUEST);
  t.deepEqual(seen, []);
});

test('unknown ops, back-channel names and test-only ops without test hooks are UNKNOWN_OP; with hooks the test op is answered', (t) => {
  const { dispatch, seen } = dispatchWith();
  for (const op of ['nope', 'regionRead', 'procDone', '__proto__', 'regionTestHold']) t.is(codeOf(() => dispatch(op, {}, 0)), ErrorCodes.UNKNOWN_OP, op);
  t.deepEqual(seen, []);
  const hooked = dispatchWith({ testHooks: true });
  t.is(hooked.dispatch('regionTestHold', { hold: true }, 3), 'answered');
  t.deepEqual(hooked.seen, [['regionTestHold', { hold: true, afterChunks: 0 }, 3]]);
});

test('a closing server refuses every op but shutdown with SHUTTING_DOWN, before checking the body', (t) => {
  const { dispatch, seen } = dispatchWith({ closing: () => true });
  for (const op of Object.keys(SERVER_OPS).filter((name) => name !== 'shutdown' && name !== 'regionTestHold')) {
    t.is(codeOf(() => dispatch(op, 'not a map', 0)), ErrorCodes.SHUTTING_DOWN, op);
  }
  t.is(dispatch('shutdown', {}, 0), null);
  t.deepEqual(seen, []);
});

test('a service left out answers nothing: a bare provider refuses the ops of the others', (t) => {
  const seen: string[] = [];
  const dispatch = createRequestDispatch({
    rank: 0, testHooks: false, validation, closing: () => false,
    services: { kv: (op) => { seen.push(op); return null; } },
  });
  for (const op of ['shutdown', 'putManyPart', 'regionPut', 'procExecute']) t.is(codeOf(() => dispatch(op, {}, 0)), ErrorCodes.UNKNOWN_OP, op);
  t.is(dispatch('hello', {}, 0), null);
  t.deepEqual(seen, ['hello']);
});

test('a putMany part with bad entries still names its staging (so the staging is discarded); bad part fields throw at once', (t) => {
  const { dispatch, seen } = dispatchWith();
  dispatch('putManyPart', { db: 'default', staging: 4, part: 1, last: false, keys: [new Uint8Array(9)], values: [new Uint8Array(1)] }, 1);
  const request = seen[0]![1] as { staging: number; part: number; last: boolean; writes: unknown };
  t.is(request.staging, 4);
  t.is(request.part, 1);
  t.is((request.writes as HpckvError).code, ErrorCodes.KEY_TOO_LARGE);
  t.is(codeOf(() => dispatch('putManyPart', { db: 'default', staging: -1, part: 0, last: true, keys: [], values: [] }, 1)), ErrorCodes.BAD_REQUEST);
  t.is(codeOf(() => dispatch('putManyPart', { db: 'default', staging: 1, part: 0, last: 'yes', keys: [], values: [] }, 1)), ErrorCodes.BAD_REQUEST);
  t.is(seen.length, 1);
});
