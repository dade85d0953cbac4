/**
 * A bounded trace of what happened in a run, kept only when asked (replaying one seed): the
 * lines are built lazily so a run of many seeds pays nothing for it.
 */
export class Trace {
  private lines: string[] = [];
  private dropped = 0;

  constructor(
    readonly enabled: boolean,
    private readonly capacity = 400,
  ) {}

  add(tick: number, line: () => string): void {
    if (!this.enabled) return;
    this.lines.push(`t${tick} ${line()}`);
    if (this.lines.length > this.capacity * 2) {
      this.dropped += this.lines.length - this.capacity;
      this.lines = this.lines.slice(-this.capacity);
    }
  }

  /** The last `count` lines, oldest first. */
  tail(count: number): string[] {
    const lines = this.lines.slice(-count);
    const hidden = this.dropped + this.lines.length - lines.length;
    return hidden > 0 ? [`... ${hidden} earlier events`, ...lines] : lines;
  }
}
