/**
 * Message ids ordered by when they are due: one binary heap, so the scheduler needs one timer armed to
 * the earliest time rather than a timer per message. Rescheduling or cancelling an id does not search
 * the heap; the old item just becomes stale (its generation no longer matches) and is skipped when it
 * surfaces. Equal times come out in the order they were scheduled.
 */
interface Item {
  at: number;
  gen: number;
  id: string;
}

/** See the top of this file. */
export class DueQueue {
  private heap: Item[] = [];
  private readonly live = new Map<string, number>();
  private gen = 0;

  /** Number of ids scheduled. */
  get size(): number {
    return this.live.size;
  }

  has(id: string): boolean {
    return this.live.has(id);
  }

  /** Schedule `id` at `at` (epoch ms), replacing any earlier schedule of it. */
  schedule(id: string, at: number): void {
    const gen = ++this.gen;
    this.live.set(id, gen);
    this.push({ at, gen, id });
    // Stale items only cost memory; rebuild when they outnumber live ones (e.g. after a big flush).
    if (this.heap.length > 2 * this.live.size + 1024) this.compact();
  }

  cancel(id: string): void {
    this.live.delete(id);
  }

  /** Take the earliest id due at `now`, if any. */
  popDue(now: number): string | undefined {
    const top = this.peekLive();
    if (!top || top.at > now) return undefined;
    this.pop();
    this.live.delete(top.id);
    return top.id;
  }

  /** The earliest scheduled time, or undefined when nothing is scheduled. */
  nextAt(): number | undefined {
    return this.peekLive()?.at;
  }

  private peekLive(): Item | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top || this.live.get(top.id) === top.gen) return top;
      this.pop();
    }
  }

  private compact(): void {
    this.heap = this.heap.filter((it) => this.live.get(it.id) === it.gen);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(it: Item): void {
    const h = this.heap;
    h.push(it);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      this.down(0);
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function before(a: Item, b: Item): boolean {
  return a.at < b.at || (a.at === b.at && a.gen < b.gen);
}
