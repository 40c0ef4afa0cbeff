import type { DatabaseStats } from '../../core/protocol/messages.js';
import { MessageKind } from '../../core/rpc/rpc-messages.js';
import { FrameDecoder } from '../../core/wire/frame-codec.js';
import { decodeFramePayload, encodeFrameChunks } from '../../core/wire/tail-frames.js';
import { KeyFilter } from '../../server/key-filter.js';
import { KeyLocks, lockId, type Lease } from '../../server/key-locks.js';
import { expandPackedLists } from '../../core/protocol/validate/packed-lists.js';
import { ABSENT, StatsDelta } from '../../server/stats-delta.js';
import { validateKeyRequest, validatePutManyRequest, validatePutRequest } from '../../core/protocol/validate/kv-requests.js';
import { type ValidationContext } from '../../core/protocol/validate/request-fields.js';
import type { LoopCounts } from './client-stages.js';
import {
  asReads, clientPieces, freshKeys, frameBytes, getRequest, putManyEnvelopes, putRequest, requestEnvelope, SOCKET_READ_BYTES, values,
  type Scenario,
} from './request-shapes.js';
import { consume, roundsOf, timeStage, type StageTiming, type TimingOptions } from './stage-timers.js';

/** The server's stages of one scenario, outside the store. Lock and stats are null for a get, which takes neither. */
export interface ServerStageTimings {
  decode: StageTiming;
  validate: StageTiming;
  lock: StageTiming | null;
  statsFilter: StageTiming | null;
  replyEncode: StageTiming;
}

/** A stored value's bytes, as Database reads it for a write's stats (getSync). */
export type ReadStored = (key: Buffer) => Buffer | undefined;

/** The requests of one batch of a scenario, as the client encodes them. */
async function requestsOf(scenario: Scenario, count: number): Promise<unknown[]> {
  const pieces = clientPieces();
  if (scenario.kind === 'bulk') return putManyEnvelopes(pieces, freshKeys(1, scenario.records)[0]!, values(scenario.records, scenario.valueBytes));
  const keys = freshKeys(1, count)[0]!;
  const value = values(1, scenario.valueBytes)[0]!;
  return keys.map((key, i) => requestEnvelope(i + 1, scenario.kind,
    scenario.kind === 'put' ? putRequest(pieces, key, value).body : getRequest(pieces, key).body));
}

export async function timeServerStages(scenario: Scenario, counts: LoopCounts, timing: TimingOptions, readStored: ReadStored): Promise<ServerStageTimings> {
  // A batch: what one call sends (bulk), the requests in flight together, or one request.
  const batch = await requestsOf(scenario, scenario.kind === 'bulk' ? 1 : scenario.inFlight);
  const batches = scenario.kind === 'bulk' ? counts.bulkIterations : counts.iterations / scenario.inFlight;
  const ops = scenario.kind === 'bulk' ? counts.bulkIterations : counts.iterations;
  const context: ValidationContext = { limits: clientPieces().limits, ownsDatabase: (name) => name === 'default' };
  const decoded = batch.map((message) => decodeFramePayload(frameBytes(message).subarray(4)) as unknown[]);
  const reply = scenario.kind === 'get' ? values(1, scenario.valueBytes)[0]! : null;
  return {
    decode: await timeDecode(batch, batches, ops, context, timing),
    validate: await timeStage(ops, () => {
      for (let b = 0; b < batches; b++) for (const message of decoded) consume(validate(scenario, message[3], context).length);
    }, timing),
    lock: scenario.kind === 'get' ? null : await timeLock(scenario, decoded, batches, ops, context, timing),
    statsFilter: scenario.kind === 'get' ? null : await timeStatsFilter(scenario, ops, timing, readStored),
    replyEncode: await timeStage(ops, () => {
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < batch.length; i++) consume(encodeFrameChunks([MessageKind.success, i + 1, reply]).length);
      }
    }, timing),
  };
}

/** Keys of a validated request (one for put/get, the call's for putMany). */
function validate(scenario: Scenario, body: unknown, context: ValidationContext): Buffer[] {
  if (scenario.kind === 'put') return [validatePutRequest(body, context).key];
  if (scenario.kind === 'get') return [validateKeyRequest(body, context).key];
  return validatePutManyRequest(expandPackedLists(body, context.limits.batchEntriesMax), context).keys;
}

/**
 * Frames as the server's socket delivers them: a lone request in a read of its own; requests in
 * flight together (and a bulk call's parts) back to back, cut into reads of at most 64 KiB.
 */
async function timeDecode(batch: unknown[], batches: number, ops: number, context: ValidationContext,
  timing: TimingOptions): Promise<StageTiming> {
  const stream = Buffer.concat(batch.map(frameBytes));
  const reads = batch.length === 1 ? [stream] : asReads(stream, SOCKET_READ_BYTES);
  const decoder = new FrameDecoder(context.limits.frameBytesMax);
  return timeStage(ops, () => {
    for (let b = 0; b < batches; b++) {
      for (const read of reads) {
        for (const payload of decoder.push(read)) consume((decodeFramePayload(payload) as unknown[]).length);
      }
    }
  }, timing);
}

/** Locks as Database takes them: a lock id per key, all of a write's keys at once, released when it committed. */
async function timeLock(scenario: Scenario, decoded: unknown[][], batches: number, ops: number, context: ValidationContext,
  timing: TimingOptions): Promise<StageTiming> {
  const locks = new KeyLocks();
  const keysOfWrites = decoded.map((message) => validate(scenario, message[3], context));
  return timeStage(ops, () => {
    for (let b = 0; b < batches; b++) {
      const leases: Lease[] = [];
      for (const keys of keysOfWrites) {
        const ids = new Array<string>(keys.length);
        for (let i = 0; i < keys.length; i++) ids[i] = lockId(keys[i]!);
        leases.push(locks.acquire(ids));
      }
      for (const lease of leases) lease.release();
      consume(leases.length);
    }
  }, timing);
}

/**
 * A write's stats delta and key filter, as Database.put / write / commitStaged do them, on keys
 * never written before (each repetition its own), so the filter answers "new" as it does for new
 * records and the old-value read is skipped (its 1% false positives read the store, as they would).
 */
async function timeStatsFilter(scenario: Scenario, ops: number, timing: TimingOptions,
  readStored: ReadStored): Promise<StageTiming> {
  const filter = new KeyFilter();
  const readSize = (key: Buffer): number => {
    if (!filter.mightContain(key)) return ABSENT;
    const value = readStored(key);
    return value === undefined ? ABSENT : value.length;
  };
  const totals: DatabaseStats = { records: 0, keyBytes: 0, valueBytes: 0 };
  const perWrite = scenario.kind === 'bulk' ? scenario.records : 1;
  const rounds = freshKeys(roundsOf(timing), ops * perWrite);
  const ids = rounds.map((keys) => keys.map(lockId));
  return timeStage(ops, (round) => {
    const keys = rounds[round]!;
    const keyIds = ids[round]!;
    for (let w = 0; w < ops; w++) {
      const delta = new StatsDelta(readSize, false);
      for (let i = w * perWrite; i < (w + 1) * perWrite; i++) {
        delta.set(keyIds[i]!, keys[i]!, scenario.valueBytes);
        filter.add(keys[i]!);
      }
      delta.addTo(totals);
    }
    consume(totals.records);
  }, timing);
}
