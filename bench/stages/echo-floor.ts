import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianAndRange, percentile } from '../stats.js';
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

/** CPU time per message and its answer, in µs, of the sending process and of the echo process (tick resolution: 10 ms over the run). */
export interface FloorCpu {
  client: number;
  server: number;
}

export interface FloorResult {
  messageBytes: number;
  reply: number | 'echo';
  /** p50 and mean of one message and its answer, one at a time, in µs. */
  oneInFlightP50Us: number;
  oneInFlightMeanUs: number;
  oneInFlightCpuUs: FloorCpu;
  /** Messages (each answered) per second with 64 outstanding; null when not measured. */
  inFlight64MsgsPerS: number | null;
  inFlight64CpuUs: FloorCpu | null;
}

export const FLOOR_WINDOW = 64;

/**
 * A bare echo (or answering) process and a connection to it, kept for several measurements so
 * they can be taken round by round between the end-to-end runs, under the same machine load.
 */
export class EchoFloor {
  private constructor(private readonly child: ChildProcess, private readonly dir: string, private readonly socket: Socket,
    private readonly answers: Answers, readonly messageBytes: number, readonly reply: number | 'echo') {}

  static async start(messageBytes: number, reply: number | 'echo'): Promise<EchoFloor> {
    const dir = await mkdtemp(join(tmpdir(), 'hpckv-echo-'));
    const path = join(dir, 'echo.sock');
    const child = spawn(process.execPath, ['-e', CHILD, path, String(messageBytes), String(reply)],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      await ready(child);
      const socket = await open(path);
      return new EchoFloor(child, dir, socket, new Answers(socket, reply === 'echo' ? messageBytes : reply), messageBytes, reply);
    } catch (error) {
      child.kill();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** `samples` round trips one at a time (after a short warm-up), then `inFlightMessages` with 64 outstanding (0: skipped). */
  async measure(samples: number, inFlightMessages: number): Promise<FloorResult> {
    const message = Buffer.alloc(this.messageBytes, 0x5a);
    await this.answers.oneAtATime(message, Math.min(200, samples));
    const [latencies, oneInFlightCpuUs] = await cpuPerMessage(this.child.pid!, samples, () => this.answers.oneAtATime(message, samples));
    const mean = latencies.reduce((total, value) => total + value, 0) / latencies.length;
    latencies.sort((a, b) => a - b);
    let inFlight: [number, FloorCpu] | null = null;
    if (inFlightMessages > 0) {
      await this.answers.windowed(message, Math.min(2000, inFlightMessages), FLOOR_WINDOW);
      inFlight = await cpuPerMessage(this.child.pid!, inFlightMessages, () => this.answers.windowed(message, inFlightMessages, FLOOR_WINDOW));
    }
    return {
      messageBytes: this.messageBytes, reply: this.reply, oneInFlightP50Us: percentile(latencies, 50), oneInFlightMeanUs: mean, oneInFlightCpuUs,
      inFlight64MsgsPerS: inFlight?.[0] ?? null, inFlight64CpuUs: inFlight?.[1] ?? null,
    };
  }

  async stop(): Promise<void> {
    this.socket.destroy();
    const exited = new Promise<void>((resolve) => { if (this.child.exitCode !== null) resolve(); else this.child.once('exit', () => resolve()); });
    this.child.disconnect();
    await exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The median of each figure over several measurements of one floor. */
export function medianFloor(results: readonly FloorResult[]): FloorResult {
  const median = (pick: (result: FloorResult) => number): number => medianAndRange(results.map(pick)).median;
  const first = results[0]!;
  const cpu = (pick: (result: FloorResult) => FloorCpu | null): FloorCpu | null => (pick(first) === null ? null
    : { client: median((r) => pick(r)!.client), server: median((r) => pick(r)!.server) });
  return {
    messageBytes: first.messageBytes, reply: first.reply, oneInFlightP50Us: median((r) => r.oneInFlightP50Us),
    oneInFlightMeanUs: median((r) => r.oneInFlightMeanUs), oneInFlightCpuUs: cpu((r) => r.oneInFlightCpuUs)!,
    inFlight64MsgsPerS: first.inFlight64MsgsPerS === null ? null : median((r) => r.inFlight64MsgsPerS!), inFlight64CpuUs: cpu((r) => r.inFlight64CpuUs),
  };
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
