import { FrameDecoder } from '../../core/wire/frame-codec.js';
import { decodeFramePayload, encodeFrameChunks } from '../../core/wire/tail-frames.js';
import { MessageKind } from '../../core/rpc/rpc-messages.js';
import {
  asReads, clientPieces, freshKeys, frameBytes, getRequest, putManyEnvelopes, putManyMessages, putRequest, replyValue,
  requestEnvelope, SOCKET_READ_BYTES, values, type Scenario,
} from './request-shapes.js';
import { consume, timeStage, type StageTiming, type TimingOptions } from './stage-timers.js';

/** Operations per repetition: single-op loops and bulk calls. */
export interface LoopCounts {
  iterations: number;
  bulkIterations: number;
}

export interface ClientStageTimings {
  encode: StageTiming;
  decodeResolve: StageTiming;
}

/** The client's two stages of a scenario: building and encoding the request; decoding the reply and resolving the caller's promise. */
export async function timeClientStages(scenario: Scenario, counts: LoopCounts, timing: TimingOptions): Promise<ClientStageTimings> {
  return { encode: await timeEncode(scenario, counts, timing), decodeResolve: await timeDecodeResolve(scenario, counts, timing) };
}

async function timeEncode(scenario: Scenario, counts: LoopCounts, timing: TimingOptions): Promise<StageTiming> {
  const pieces = clientPieces();
  let id = 1;
  if (scenario.kind === 'bulk') {
    const keys = freshKeys(1, scenario.records)[0]!;
    const vals = values(scenario.records, scenario.valueBytes);
    return timeStage(counts.bulkIterations, async () => {
      for (let c = 0; c < counts.bulkIterations; c++) {
        await putManyMessages(pieces, keys, vals, (op, body) => consume(encodeFrameChunks(requestEnvelope(id++, op, body)).length));
      }
    }, timing);
  }
  const keys = freshKeys(1, counts.iterations)[0]!;
  const value = values(1, scenario.valueBytes)[0]!;
  return timeStage(counts.iterations, () => {
    for (let i = 0; i < counts.iterations; i++) {
      const body = scenario.kind === 'put' ? putRequest(pieces, keys[i]!, value).body : getRequest(pieces, keys[i]!).body;
      consume(encodeFrameChunks(requestEnvelope(id++, scenario.kind, body)).length);
    }
  }, timing);
}

/**
 * Replies as they reach the client: one reply per read with one request in flight; with 64 in
 * flight the server writes its replies together, so they arrive concatenated (in reads of at most
 * 64 KiB). A bulk call's replies (one per part) arrive one by one, as the parts are staged.
 */
function replyReads(scenario: Scenario, parts: number): Buffer[][] {
  const reply = scenario.kind === 'get' ? values(1, scenario.valueBytes)[0]! : null;
  const frame = (id: number): Buffer => frameBytes([MessageKind.success, id, reply]);
  if (scenario.kind === 'bulk') return Array.from({ length: parts }, (_, p) => [frame(p + 1)]);
  if (scenario.inFlight === 1) return [[frame(1)]];
  const burst = Buffer.concat(Array.from({ length: scenario.inFlight }, (_, i) => frame(i + 1)));
  return [asReads(burst, SOCKET_READ_BYTES)];
}

async function timeDecodeResolve(scenario: Scenario, counts: LoopCounts, timing: TimingOptions): Promise<StageTiming> {
  const pieces = clientPieces();
  const parts = scenario.kind === 'bulk'
    ? (await putManyEnvelopes(pieces, freshKeys(1, scenario.records)[0]!, values(scenario.records, scenario.valueBytes))).length
    : 1;
  const reads = replyReads(scenario, parts);
  const decoder = new FrameDecoder(pieces.limits.frameBytesMax);
  const settle = (value: unknown): unknown => (scenario.kind === 'get' ? replyValue(value) : undefined);
  /** Feeds one group of reads; returns the callers' promises, resolved with the decoded results. */
  const deliver = (group: Buffer[]): Array<Promise<unknown>> => {
    const promises: Array<Promise<unknown>> = [];
    for (const read of group) {
      for (const payload of decoder.push(read)) {
        const message = decodeFramePayload(payload) as unknown[];
        let resolve: (value: unknown) => void = () => undefined;
        promises.push(new Promise<unknown>((r) => { resolve = r; }).then(settle));
        resolve(message[2]);
      }
    }
    return promises;
  };
  if (scenario.kind === 'bulk') {
    return timeStage(counts.bulkIterations, async () => {
      for (let c = 0; c < counts.bulkIterations; c++) {
        const promises = reads.flatMap(deliver);
        // sendPutMany settles every part, then perServer settles every server.
        await Promise.allSettled(promises);
        consume(promises.length);
      }
    }, timing);
  }
  const group = reads[0]!;
  const batches = counts.iterations / scenario.inFlight;
  return timeStage(batches * scenario.inFlight, async () => {
    let last: Promise<unknown> = Promise.resolve();
    for (let b = 0; b < batches; b++) {
      const promises = deliver(group);
      last = promises[promises.length - 1]!;
    }
    consume((await last) === undefined ? 0 : 1);
  }, timing);
}
