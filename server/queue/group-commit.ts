/**
 * Group commit for a repeatable task such as a directory fsync: every caller is covered by a run that
 * *started after* its call (a run already in flight may have begun before the caller's rename, so it
 * does not count), and all callers that arrive while a run is in flight share the next one. N
 * concurrent commits therefore cost at most two fsyncs in flight instead of N.
 */
export class GroupCommit {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** How many times the task actually ran (for tests and benchmarks). */
  runs = 0;

  constructor(private readonly task: () => Promise<void>) {}

  /** Resolves once a run of the task that started after this call has completed. */
  run(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const after = this.running;
    this.next = after
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.next = null;
        return this.start();
      });
    return this.next;
  }

  /** No run in flight and none waiting. */
  get idle(): boolean {
    return !this.running && !this.next;
  }

  private start(): Promise<void> {
    this.runs++;
    const p: Promise<void> = new Promise<void>((resolve) => resolve(this.task())).finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }
}
