import { ErrorCodes, HpckvError } from '../errors.js';
import { decodeMessage, decodeMessages, encodeMessage } from '../wire/message-codec.js';
import { isDataFrame, type DataFrame } from './socket-protocol.js';

/**
 * What mpi-backend peers say to each other, as MPI tags (see mpi-endpoint.ts): a message is the
 * msgpack of [context, tag, data], the sockets backend's data frame.
 */

/** One message. */
export const DATA_TAG = 1;
/** Empty: the sender closed; nothing from it follows. */
export const BYE_TAG = 2;
/** Several messages to one peer, their encodings one after another. */
export const BATCH_TAG = 3;

/** The encoding of one message; HPCKV_ERR_FRAME_TOO_LARGE when it exceeds `frameBytesMax`. */
export function encodeDataFrame(context: string, tag: number, data: unknown, frameBytesMax: number): Buffer {
  const payload = encodeMessage([context, tag, data]);
  if (payload.length > frameBytesMax) {
    throw new HpckvError(ErrorCodes.FRAME_TOO_LARGE, `message of ${payload.length} bytes exceeds frameBytesMax ${frameBytesMax}`,
      { details: { limit: 'frameBytesMax', frameBytes: payload.length, max: frameBytesMax } });
  }
  return payload;
}

/** The messages of a DATA_TAG or BATCH_TAG payload, or undefined when it is malformed or has another tag. */
export function decodeDataFrames(mpiTag: number, payload: Buffer): DataFrame[] | undefined {
  let frames: unknown[] | undefined;
  try {
    if (mpiTag === DATA_TAG) frames = [decodeMessage(payload)];
    else if (mpiTag === BATCH_TAG) frames = decodeMessages(payload);
  } catch {
    return undefined;
  }
  return frames !== undefined && frames.every(isDataFrame) ? frames : undefined;
}
