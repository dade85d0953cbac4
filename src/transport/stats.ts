/**
 * The numbers behind /v2/stats/leader (per follower) and /v2/stats/self (append traffic),
 * spec §8. Times are monotonic milliseconds from the transport's clock.
 */
import type { AppendStats, FollowerStats } from './types.js';

/** etcd starts the minimum at 1<<63 and serialises it as a float64 (9223372036854775808). */
export const LATENCY_MINIMUM_UNSET = 2 ** 63;

/** Sends still waiting for their response; older ones are forgotten (their answer was lost). */
const MAX_OUTSTANDING = 1024;

/** A FIFO of send times for one request kind (MsgApp or MsgHeartbeat). */
class OutstandingSends {
  private times: number[] = [];
  private head = 0;

  add(atMs: number): void {
    if (this.times.length - this.head >= MAX_OUTSTANDING) this.head++;
    this.times.push(atMs);
    if (this.head > MAX_OUTSTANDING) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
  /** The oldest outstanding send, or undefined when none is waiting. */
  takeOldest(): number | undefined {
    if (this.head >= this.times.length) return undefined;
    return this.times[this.head++];
  }
  clear(): void {
    this.times = [];
    this.head = 0;
  }
}

/**
 * Latency of append RPCs to one follower: a response is matched with the oldest outstanding
 * request of its kind. Every response is a success; average and standard deviation run over
 * the matched ones (sum and sum of squares, as etcd's FollowerStats).
 */
export class FollowerLatency {
  private readonly apps = new OutstandingSends();
  private readonly heartbeats = new OutstandingSends();
  private current = 0;
  private total = 0;
  private totalSquares = 0;
  private minimum = LATENCY_MINIMUM_UNSET;
  private maximum = 0;
  private success = 0;
  /** Successes matched with their send: the population of average and standardDeviation. */
  private samples = 0;
  private fail = 0;

  sentApp(atMs: number): void {
    this.apps.add(atMs);
  }
  sentHeartbeat(atMs: number): void {
    this.heartbeats.add(atMs);
  }
  receivedAppResp(atMs: number): void {
    this.succeeded(this.apps.takeOldest(), atMs);
  }
  receivedHeartbeatResp(atMs: number): void {
    this.succeeded(this.heartbeats.takeOldest(), atMs);
  }

  /** A failed dial or a lost connection: what was in flight will never be answered. */
  connectionFailed(): void {
    this.fail++;
    this.apps.clear();
    this.heartbeats.clear();
  }

  /** A message dropped before it was sent (queue full). */
  sendDropped(): void {
    this.fail++;
  }

  private succeeded(sentAtMs: number | undefined, atMs: number): void {
    this.success++;
    if (sentAtMs === undefined) return;
    const ms = Math.max(0, atMs - sentAtMs);
    this.current = ms;
    this.total += ms;
    this.totalSquares += ms * ms;
    this.samples++;
    if (ms < this.minimum) this.minimum = ms;
    if (ms > this.maximum) this.maximum = ms;
  }

  stats(): FollowerStats {
    const average = this.samples === 0 ? 0 : this.total / this.samples;
    const variance = this.samples === 0 ? 0 : this.totalSquares / this.samples - average * average;
    return {
      latency: {
        current: this.current,
        average,
        standardDeviation: Math.sqrt(Math.max(0, variance)),
        minimum: this.minimum,
        maximum: this.maximum,
      },
      counts: { fail: this.fail, success: this.success },
    };
  }
}

const RATE_WINDOW = 200;
const RATE_STALE_MS = 1000;

/** Packets and bytes per second over the last ≤200 appends; 0 when idle for over a second. */
export class AppendRate {
  private readonly at: number[] = [];
  private readonly sizes: number[] = [];
  private totalBytes = 0;

  record(atMs: number, bytes: number): void {
    if (this.at.length === RATE_WINDOW) {
      this.at.shift();
      this.totalBytes -= this.sizes.shift() as number;
    }
    this.at.push(atMs);
    this.sizes.push(bytes);
    this.totalBytes += bytes;
  }

  /** [packets/s, bytes/s], both 0 when there is nothing recent enough to measure. */
  rates(nowMs: number): [number, number] {
    const oldest = this.at[0];
    const newest = this.at[this.at.length - 1];
    if (oldest === undefined || newest === undefined || nowMs - newest > RATE_STALE_MS) return [0, 0];
    const seconds = (newest - oldest) / 1000;
    if (seconds <= 0) return [0, 0];
    return [this.at.length / seconds, this.totalBytes / seconds];
  }
}

export class AppendCounters {
  private received = 0;
  private sent = 0;
  private readonly recvRate = new AppendRate();
  private readonly sendRate = new AppendRate();

  receivedApp(atMs: number, bytes: number): void {
    this.received++;
    this.recvRate.record(atMs, bytes);
  }
  sentApp(atMs: number, bytes: number): void {
    this.sent++;
    this.sendRate.record(atMs, bytes);
  }

  stats(nowMs: number): AppendStats {
    const [recvPkgRate, recvBandwidthRate] = this.recvRate.rates(nowMs);
    const [sendPkgRate, sendBandwidthRate] = this.sendRate.rates(nowMs);
    return {
      recvAppendRequestCnt: this.received,
      sendAppendRequestCnt: this.sent,
      ...(recvPkgRate > 0 ? { recvPkgRate, recvBandwidthRate } : {}),
      ...(sendPkgRate > 0 ? { sendPkgRate, sendBandwidthRate } : {}),
    };
  }
}
