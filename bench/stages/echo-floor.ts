import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../stats.js';
import { ownCpuUs, processCpuUs } from './process-cpu.js';

/**
 * The transport floor: what a message and its answer cost between two bare Node processes over a
 * Unix socket on this machine (system calls, copies, and each side waking up), with no hpckv code
 * on either side. The child either echoes every byte or, for bulk-shaped traffic, answers each
 * whole message of `messageBytes` with `replyBytes` (as a server answers a putMany with a short reply).
 */
const CHILD = `
const net = require('node:net');
const [path, messageText, replyText] = process.argv.slice(1);
const messageBytes = Number(messageText);
const reply = replyText === 'echo' ? null : Buffer.alloc(Number(replyText));
const server = net.createServer((socket) => {
  let got = 0;
  socket.on('data', (chunk) => {
    if (reply === null) { socket.write(chunk); return; }
    got += chunk.length;
    while (got >= messageBytes) { got -= messageBytes; socket.write(reply); }
  });
});
server.listen(path, () => process.send({ type: 'ready' }));
process.on('disconnect', () => process.exit(0));
`;

export interface FloorOptions {
  messageBytes: number;
  /** Bytes of the answer to each message; 'echo' sends the message back. */
  reply: number | 'echo';
  /** Round trips timed one at a time (after as many again as a warm-up, at most 200). */
  samples: number;
  /** Messages sent with 64 outstanding; 0 skips that part. */
  inFlightMessages: number;
}

/** CPU time per message and its answer, in µs, of the sending process and of the echo process (tick resolution: 10 ms over the run). */
export interface FloorCpu {
  client: number;
  server: number;
}

export interface FloorResult {
  messageBytes: number;
  reply: number | 'echo';
  /** p50 of one message and its answer, one at a time, in µs. */
  oneInFlightP50Us: number;
  oneInFlightCpuUs: FloorCpu;
  /** Messages (each answered) per second with 64 outstanding; null when not measured. */
  inFlight64MsgsPerS: number | null;
  inFlight64CpuUs: FloorCpu | null;
}

export const FLOOR_WINDOW = 64;

export async function measureFloor(options: FloorOptions): Promise<FloorResult> {
  const dir = await mkdtemp(join(tmpdir(), 'hpckv-echo-'));
  const path = join(dir, 'echo.sock');
  const child = spawn(process.execPath, ['-e', CHILD, path, String(options.messageBytes), String(options.reply)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await ready(child);
    const socket = await open(path);
    const replyBytes = options.reply === 'echo' ? options.messageBytes : options.reply;
    const answers = new Answers(socket, replyBytes);
    const message = Buffer.alloc(options.messageBytes, 0x5a);
    await answers.oneAtATime(message, Math.min(200, options.samples));
    const [latencies, oneInFlightCpuUs] = await cpuPerMessage(child.pid!, options.samples, () => answers.oneAtATime(message, options.samples));
    latencies.sort((a, b) => a - b);
    let inFlight: [number, FloorCpu] | null = null;
    if (options.inFlightMessages > 0) {
      await answers.windowed(message, Math.min(2000, options.inFlightMessages), FLOOR_WINDOW);
      inFlight = await cpuPerMessage(child.pid!, options.inFlightMessages, () => answers.windowed(message, options.inFlightMessages, FLOOR_WINDOW));
    }
    socket.destroy();
    return {
      messageBytes: options.messageBytes, reply: options.reply, oneInFlightP50Us: percentile(latencies, 50), oneInFlightCpuUs,
      inFlight64MsgsPerS: inFlight?.[0] ?? null, inFlight64CpuUs: inFlight?.[1] ?? null,
    };
  } finally {
    child.disconnect();
    await new Promise<void>((resolve) => { if (child.exitCode !== null) resolve(); else child.once('exit', () => resolve()); });
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `run` and measures the CPU time both processes spent on it, per message. */
async function cpuPerMessage<T>(childPid: number, messages: number, run: () => Promise<T>): Promise<[T, FloorCpu]> {
  const client = ownCpuUs();
  const server = processCpuUs(childPid);
  const result = await run();
  return [result, { client: (ownCpuUs() - client) / messages, server: (processCpuUs(childPid) - server) / messages }];
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`echo server exited with code ${code} before it was ready`)));
  });
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Counts answers as their bytes arrive (a stream cuts them anywhere). */
class Answers {
  private received = 0;
  private onAnswer: () => void = () => undefined;

  constructor(private readonly socket: Socket, private readonly replyBytes: number) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      while (this.received >= this.replyBytes) {
        this.received -= this.replyBytes;
        this.onAnswer();
      }
    });
  }

  /** Round trips one at a time; their latencies in µs. */
  async oneAtATime(message: Buffer, count: number): Promise<number[]> {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        this.onAnswer = resolve;
        this.socket.write(message);
      });
      latencies.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    return latencies;
  }

  /** `count` messages with `window` outstanding; answered messages per second. */
  windowed(message: Buffer, count: number, window: number): Promise<number> {
    const start = process.hrtime.bigint();
    let sent = 0;
    let done = 0;
    return new Promise((resolve) => {
      this.onAnswer = () => {
        done++;
        if (sent < count) {
          sent++;
          this.socket.write(message);
        }
        if (done === count) resolve(count / (Number(process.hrtime.bigint() - start) / 1e9));
      };
      for (; sent < Math.min(window, count); sent++) this.socket.write(message);
    });
  }
}
