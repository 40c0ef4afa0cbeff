import { ErrorCodes, HpckvError } from '../errors.js';

/**
 * Length-prefixed frames: a 4-byte unsigned big-endian length, then that many payload bytes.
 * The decoder accepts a stream cut at any byte (partial prefixes, partial payloads, many frames
 * in one chunk) and refuses a length above `frameBytesMax` before buffering any of it, so a
 * hostile prefix cannot make a peer allocate.
 */

export const FRAME_PREFIX_BYTES = 4;

/** Prefix for a payload; write the two together (writev) to avoid copying the payload. */
export function framePrefix(payloadBytes: number): Buffer {
  const prefix = Buffer.allocUnsafe(FRAME_PREFIX_BYTES);
  prefix.writeUInt32BE(payloadBytes, 0);
  return prefix;
}

/** One contiguous frame (prefix + payload); copies the payload. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_PREFIX_BYTES);
  return frame;
}

export class FrameDecoder {
  private readonly frameBytesMax: number;
  /** Bytes received but not yet returned as frames. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Payload length of the incomplete frame at the head of `pending` (its prefix included there), or -1. */
  private needed = -1;

  constructor(frameBytesMax: number) {
    this.frameBytesMax = frameBytesMax;
  }

  /** Bytes buffered while waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Feeds a chunk; returns the payloads it completes, in order. Throws HPCKV_ERR_FRAME_TOO_LARGE
   * on a length prefix above the limit; the stream is then unusable and should be closed.
   */
  push(chunk: Buffer): Buffer[] {
    // A frame still incomplete after this chunk is only collected, never concatenated, so a
    // large frame arriving in many small reads costs linear copying, not quadratic.
    if (this.pendingBytes > 0 && this.needed >= 0
      && this.pendingBytes + chunk.length < FRAME_PREFIX_BYTES + this.needed) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return [];
    }
    const frames: Buffer[] = [];
    let data: Buffer;
    if (this.pendingBytes === 0) {
      data = chunk;
    } else {
      this.pending.push(chunk);
      data = Buffer.concat(this.pending, this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    for (;;) {
      if (data.length - offset < FRAME_PREFIX_BYTES) break;
      const length = data.readUInt32BE(offset);
      if (length > this.frameBytesMax) {
        throw new HpckvError(ErrorCodes.FRAME_TOO_LARGE,
          `frame of ${length} bytes exceeds frameBytesMax ${this.frameBytesMax}`,
          { details: { limit: 'frameBytesMax', frameBytes: length, max: this.frameBytesMax } });
      }
      if (data.length - offset - FRAME_PREFIX_BYTES < length) {
        // Remember the size so later chunks of this frame are only collected.
        this.needed = length;
        break;
      }
      frames.push(data.subarray(offset + FRAME_PREFIX_BYTES, offset + FRAME_PREFIX_BYTES + length));
      offset += FRAME_PREFIX_BYTES + length;
      this.needed = -1;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    } else {
      this.needed = -1;
    }
    return frames;
  }
}
