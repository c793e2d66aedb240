/**
 * One read shared by callers that ask at the same time, never one that started before a caller
 * asked. A value another process can change (the directory in force, which `relay directory import`
 * replaces from anywhere) cannot be cached, but a burst of requests need not read it once each.
 * Callers that ask in one turn of the event loop share a read made after that turn (the requests
 * that arrived together, as in the group commit, src/db/group-commit.ts); callers that ask while a
 * read is in flight share the next one, made as soon as it ends. So each caller sees everything
 * committed before it asked, as if it had read alone, and a burst costs one read at a time.
 */
export class SharedRead<T> {
  private running: Promise<T> | undefined;
  private next: Promise<T> | undefined;

  constructor(private readonly read: () => Promise<T>) {}

  get(): Promise<T> {
    this.next ??= this.afterRunning().then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  /** Settles once the read in flight has (either way), or after this turn if none is. */
  private afterRunning(): Promise<void> {
    if (this.running) return this.running.then(settled, settled);
    return new Promise((resolve) => setImmediate(resolve));
  }

  private start(): Promise<T> {
    const read = this.read();
    this.running = read;
    const done = () => {
      if (this.running === read) this.running = undefined;
    };
    read.then(done, done);
    return read;
  }
}

function settled(): void {}
