import test from 'ava';
import { ErrorCodes, HpckvError } from '../../../core/errors.js';
import { resolveLimits } from '../../../core/limits.js';
import { checkDb, checkEntries, checkKey, checkValue, limitExceeded } from '../../../core/protocol/field-checks.js';

const limits = resolveLimits({ keyBytesMax: 8, valueBytesMax: 16, batchEntriesMax: 3 });

function fault(run: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    run();
  } catch (error) {
    if (error instanceof HpckvError) return { code: error.code, message: error.message, details: { ...error.details } };
    throw error;
  }
  throw new Error('no fault');
}

test('an empty key is a malformed request, wherever it sits', (t) => {
  t.deepEqual(fault(() => checkKey(new Uint8Array(0), limits)),
    { code: ErrorCodes.BAD_REQUEST, message: 'key must not be empty', details: { bytes: 0 } });
  t.deepEqual(fault(() => checkKey(Buffer.alloc(0), limits, { field: 'keys', index: 2 })),
    { code: ErrorCodes.BAD_REQUEST, message: 'keys [2] must not be empty', details: { field: 'keys', index: 2, bytes: 0 } });
});

test('a key or value over its limit: one code and one phrasing, with the limit, the size and the maximum', (t) => {
  t.deepEqual(fault(() => checkKey(Buffer.alloc(9), limits)),
    { code: ErrorCodes.KEY_TOO_LARGE, message: 'key is 9 bytes, more than keyBytesMax 8', details: { limit: 'keyBytesMax', bytes: 9, max: 8 } });
  t.deepEqual(fault(() => checkValue(Buffer.alloc(17), limits, { field: 'value', index: 4 })), {
    code: ErrorCodes.VALUE_TOO_LARGE, message: 'value [4] is 17 bytes, more than valueBytesMax 16',
    details: { field: 'value', index: 4, limit: 'valueBytesMax', bytes: 17, max: 16 },
  });
  const key = Buffer.alloc(8);
  t.is(checkKey(key, limits), key, 'a key at the limit passes, the same object');
  t.is(checkValue(Buffer.alloc(0), limits).length, 0, 'an empty value passes');
});

test('entry counts and other limits read the same way', (t) => {
  checkEntries(3, limits, 'batch');
  t.deepEqual(fault(() => checkEntries(4, limits, 'batch')),
    { code: ErrorCodes.BATCH_TOO_LARGE, message: 'batch is 4 entries, more than batchEntriesMax 3', details: { limit: 'batchEntriesMax', entries: 4, max: 3 } });
  t.deepEqual(fault(() => { throw limitExceeded(ErrorCodes.BATCH_TOO_LARGE, 'regionOpBytesMax', 'the pairs for this server', 10, 5, 'bytes', { staging: 1 }); }), {
    code: ErrorCodes.BATCH_TOO_LARGE, message: 'the pairs for this server is 10 bytes, more than regionOpBytesMax 5',
    details: { staging: 1, limit: 'regionOpBytesMax', bytes: 10, max: 5 },
  });
});

test('checkDb: an owned name passes; a name outside the pattern or not owned is UNKNOWN_DATABASE, echoed at most 100 characters', (t) => {
  const owns = (name: string): boolean => name === 'default' || name === 'x'.repeat(64);
  t.is(checkDb('default', { ownsDatabase: owns }), 'default');
  for (const name of ['other', '', '.hidden', 'a/b', 'x'.repeat(65)]) {
    const error = t.throws(() => checkDb(name, { ownsDatabase: owns }), { instanceOf: HpckvError });
    t.is(error?.code, ErrorCodes.UNKNOWN_DATABASE, name);
    t.deepEqual(error?.details, { db: name.slice(0, 100) });
  }
  const long = t.throws(() => checkDb('y'.repeat(300), { ownsDatabase: () => true }), { instanceOf: HpckvError });
  t.is(long?.message, `this server has no database "${'y'.repeat(100)}"`);
});
