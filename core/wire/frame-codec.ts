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
  /** Payload length of the incomplete frame held in `pending` (prefix included there), or -1 while its prefix is incomplete. */
  private needed = -1;

  /**
   * True when each chunk pushed is a view of a read buffer that is reused after push returns:
   * what the decoder keeps or returns is then copied out (the frames complete in one chunk
   * with one copy between them).
   */
  private readonly chunksReused: boolean;

  constructor(frameBytesMax: number, options: { chunksReused?: boolean } = {}) {
    this.frameBytesMax = frameBytesMax;
    this.chunksReused = options.chunksReused ?? false;
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
    let offset = 0;
    if (this.pendingBytes > 0) {
      // Finish the frame that straddles the previous chunk, copying only that frame's bytes
      // (the rest of this chunk is parsed in place), so no byte is copied more than once.
      if (this.needed < 0) {
        const want = FRAME_PREFIX_BYTES - this.pendingBytes;
        if (chunk.length < want) {
          this.hold(chunk);
          return frames;
        }
        const prefix = Buffer.concat([...this.pending, chunk.subarray(0, want)], FRAME_PREFIX_BYTES);
        this.needed = this.checkedLength(prefix, 0);
        this.pending = [prefix];
        this.pendingBytes = FRAME_PREFIX_BYTES;
        offset = want;
      }
      const missing = FRAME_PREFIX_BYTES + this.needed - this.pendingBytes;
      if (chunk.length - offset < missing) {
        this.hold(chunk.subarray(offset));
        return frames;
      }
      this.pending.push(chunk.subarray(offset, offset + missing));
      const frame = Buffer.concat(this.pending, FRAME_PREFIX_BYTES + this.needed);
      frames.push(frame.subarray(FRAME_PREFIX_BYTES));
      offset += missing;
      this.pending = [];
      this.pendingBytes = 0;
      this.needed = -1;
    }
    const firstWhole = frames.length;
    const wholeStart = offset;
    for (;;) {
      if (chunk.length - offset < FRAME_PREFIX_BYTES) break;
      const length = this.checkedLength(chunk, offset);
      if (chunk.length - offset - FRAME_PREFIX_BYTES < length) {
        // Remember the size so later chunks of this frame are only collected.
        this.needed = length;
        break;
      }
      frames.push(chunk.subarray(offset + FRAME_PREFIX_BYTES, offset + FRAME_PREFIX_BYTES + length));
      offset += FRAME_PREFIX_BYTES + length;
    }
    if (this.chunksReused && frames.length > firstWhole) this.copyOut(frames, firstWhole, chunk, wholeStart, offset);
    if (offset < chunk.length) this.hold(chunk.subarray(offset));
    return frames;
  }

  /** Replaces frames[first..] (views of chunk[start, end)) by views of one copy of those bytes. */
  private copyOut(frames: Buffer[], first: number, chunk: Buffer, start: number, end: number): void {
    const copy = Buffer.from(chunk.subarray(start, end));
    const shift = chunk.byteOffset + start;
    for (let i = first; i < frames.length; i++) {
      const frame = frames[i]!;
      frames[i] = copy.subarray(frame.byteOffset - shift, frame.byteOffset - shift + frame.length);
    }
  }

  private hold(bytes: Buffer): void {
    this.pending.push(this.chunksReused ? Buffer.from(bytes) : bytes);
    this.pendingBytes += bytes.length;
  }

  private checkedLength(data: Buffer, offset: number): number {
    const length = data.readUInt32BE(offset);
    if (length > this.frameBytesMax) {
      throw new HpckvError(ErrorCodes.FRAME_TOO_LARGE,
        `frame of ${length} bytes exceeds frameBytesMax ${this.frameBytesMax}`,
        { details: { limit: 'frameBytesMax', frameBytes: length, max: this.frameBytesMax } });
    }
    return length;
  }
}
