/**
 * The virtual network: messages in flight with a delivery time in virtual ticks. Faults are
 * decided when a message is sent (drop, duplicate, delay — random delays reorder messages) and
 * by directed link cuts (a symmetric partition cuts both directions, an asymmetric one only one).
 */
import type { Prng } from '../../src/common/prng.js';
import type { Message, NodeId } from '../../src/raft/types.js';

export interface InFlight {
  readonly message: Message;
  readonly deliverAtTick: number;
  /** Monotonic sequence number: makes the choice among due messages independent of array order quirks. */
  readonly seq: number;
}

export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  maxDelayTicks: number;
}

export type SendOutcome = 'queued' | 'dropped' | 'cut';

export class SimNetwork {
  private inFlight: InFlight[] = [];
  private nextSeq = 0;
  /** Directed cuts, as "from>to". */
  private cuts = new Set<string>();
  sent = 0;
  dropped = 0;
  duplicated = 0;
  delivered = 0;

  /** `onLostInFlight` hears of messages lost after being queued (a cut link, a crashed receiver). */
  constructor(
    private readonly prng: Prng,
    readonly faults: NetworkFaults,
    private readonly onLostInFlight: (m: Message) => void = () => {},
  ) {}

  send(message: Message, nowTick: number): SendOutcome {
    this.sent++;
    if (this.isCut(message.from, message.to)) {
      this.dropped++;
      return 'cut';
    }
    if (this.prng.next() < this.faults.dropProbability) {
      this.dropped++;
      return 'dropped';
    }
    this.enqueue(message, nowTick);
    if (this.prng.next() < this.faults.duplicateProbability) {
      this.duplicated++;
      this.enqueue(message, nowTick);
    }
    return 'queued';
  }

  private enqueue(message: Message, nowTick: number): void {
    const delayTicks = this.faults.maxDelayTicks === 0 ? 0 : this.prng.int(this.faults.maxDelayTicks + 1);
    this.inFlight.push({ message, deliverAtTick: nowTick + delayTicks, seq: this.nextSeq++ });
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.has(`${from}>${to}`);
  }

  cut(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  /** Cuts every link between the two sides, in both directions. */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.cut(a, b);
        this.cut(b, a);
      }
    }
  }

  healAll(): void {
    this.cuts.clear();
  }

  cutCount(): number {
    return this.cuts.size;
  }

  /**
   * Removes and returns one message that is due and whose receiver can take it now, chosen at
   * random (this is where reordering happens). A link cut after the message was sent drops it too.
   */
  takeDeliverable(nowTick: number, canReceive: (id: NodeId) => boolean): Message | undefined {
    const due: number[] = [];
    for (let i = 0; i < this.inFlight.length; i++) {
      const f = this.inFlight[i]!;
      if (f.deliverAtTick <= nowTick && canReceive(f.message.to)) due.push(i);
    }
    if (due.length === 0) return undefined;
    const position = due[this.prng.int(due.length)]!;
    const [taken] = this.inFlight.splice(position, 1);
    if (taken === undefined) return undefined;
    if (this.isCut(taken.message.from, taken.message.to)) {
      this.dropped++;
      this.onLostInFlight(taken.message);
      return this.takeDeliverable(nowTick, canReceive);
    }
    this.delivered++;
    return taken.message;
  }

  /** Forget every message to a node: a crashed node's receive buffers die with it (what it sent is already out). */
  dropMessagesTo(id: NodeId): void {
    const before = this.inFlight.length;
    for (const f of this.inFlight) if (f.message.to === id) this.onLostInFlight(f.message);
    this.inFlight = this.inFlight.filter((f) => f.message.to !== id);
    this.dropped += before - this.inFlight.length;
  }

  pendingCount(): number {
    return this.inFlight.length;
  }
}
