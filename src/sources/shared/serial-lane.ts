/**
 * Runs tasks one at a time, in the order they were queued: what a source hands to the pipeline
 * leaves in the order it arrived even when each step awaits Redis. A task that fails is reported
 * to `onError` and never blocks the tasks behind it.
 */
export class SerialLane {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (err: unknown) => void) {}

  run(task: () => Promise<void>): void {
    this.tail = this.tail.then(task).catch(this.onError);
  }

  /** Settles once every task queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
