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
  /** Payload length of the frame being assembled, once its prefix is complete. */
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
    const frames: Buffer[] = [];
    let data: Buffer;
    if (this.pendingBytes === 0) {
      data = chunk;
    } else {
      this.pending.push(chunk);
      data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes + chunk.length);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    for (;;) {
      if (this.needed < 0) {
        if (data.length - offset < FRAME_PREFIX_BYTES) break;
        const length = data.readUInt32BE(offset);
        if (length > this.frameBytesMax) {
          throw new HpckvError(ErrorCodes.FRAME_TOO_LARGE,
            `frame of ${length} bytes exceeds frameBytesMax ${this.frameBytesMax}`,
            { details: { frameBytes: length, frameBytesMax: this.frameBytesMax } });
        }
        this.needed = length;
        offset += FRAME_PREFIX_BYTES;
      }
      if (data.length - offset < this.needed) break;
      frames.push(data.subarray(offset, offset + this.needed));
      offset += this.needed;
      this.needed = -1;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
    return frames;
  }
}
