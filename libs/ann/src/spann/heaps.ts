/**
 * Binary heaps of (distance, id) pairs in parallel typed arrays: no per-element objects on the
 * query path. They grow by doubling when pushed past capacity.
 */
export class MaxHeap {
  d: Float64Array;
  n: Uint32Array;
  size = 0;

  constructor(capacity = 64) {
    this.d = new Float64Array(capacity);
    this.n = new Uint32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  topDist(): number {
    return this.d[0];
  }

  push(dist: number, id: number): void {
    if (this.size === this.d.length) this.grow();
    let i = this.size++;
    const d = this.d;
    const n = this.n;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[p] >= dist) break;
      d[i] = d[p];
      n[i] = n[p];
      i = p;
    }
    d[i] = dist;
    n[i] = id;
  }

  /** Removes the largest; returns nothing (read topDist / n[0] before if needed). */
  pop(): void {
    const last = --this.size;
    if (last <= 0) return;
    const d = this.d;
    const n = this.n;
    const dist = d[last];
    const id = n[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && d[c + 1] > d[c]) c++;
      if (d[c] <= dist) break;
      d[i] = d[c];
      n[i] = n[c];
      i = c;
    }
    d[i] = dist;
    n[i] = id;
  }

  /** Bounded insert for top-k: keeps the k smallest distances. */
  offer(dist: number, id: number, k: number): void {
    if (this.size < k) this.push(dist, id);
    else if (dist < this.d[0]) {
      this.d[0] = dist;
      this.n[0] = id;
      this.siftDownRoot();
    }
  }

  /** Drains into ascending order: outD[0] is the nearest. Returns the count. */
  drainAscending(outD: Float64Array, outN: Uint32Array): number {
    const count = this.size;
    for (let i = count - 1; i >= 0; i--) {
      outD[i] = this.d[0];
      outN[i] = this.n[0];
      this.pop();
    }
    this.size = 0;
    return count;
  }

  private siftDownRoot(): void {
    const size = this.size;
    const d = this.d;
    const n = this.n;
    const dist = d[0];
    const id = n[0];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && d[c + 1] > d[c]) c++;
      if (d[c] <= dist) break;
      d[i] = d[c];
      n[i] = n[c];
      i = c;
    }
    d[i] = dist;
    n[i] = id;
  }

  private grow(): void {
    const d = new Float64Array(this.d.length * 2);
    d.set(this.d);
    const n = new Uint32Array(this.n.length * 2);
    n.set(this.n);
    this.d = d;
    this.n = n;
  }
}

export class MinHeap {
  d: Float64Array;
  n: Uint32Array;
  size = 0;

  constructor(capacity = 64) {
    this.d = new Float64Array(capacity);
    this.n = new Uint32Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  push(dist: number, id: number): void {
    if (this.size === this.d.length) this.grow();
    let i = this.size++;
    const d = this.d;
    const n = this.n;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[p] <= dist) break;
      d[i] = d[p];
      n[i] = n[p];
      i = p;
    }
    d[i] = dist;
    n[i] = id;
  }

  pop(): void {
    const last = --this.size;
    if (last <= 0) return;
    const d = this.d;
    const n = this.n;
    const dist = d[last];
    const id = n[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && d[c + 1] < d[c]) c++;
      if (d[c] >= dist) break;
      d[i] = d[c];
      n[i] = n[c];
      i = c;
    }
    d[i] = dist;
    n[i] = id;
  }

  private grow(): void {
    const d = new Float64Array(this.d.length * 2);
    d.set(this.d);
    const n = new Uint32Array(this.n.length * 2);
    n.set(this.n);
    this.d = d;
    this.n = n;
  }
}
