/**
 * Latency quantiles without keeping samples: counts per power-of-two bucket of microseconds
 * (1 us to ~1 h). A quantile is reported as its bucket's upper bound, so within 2x.
 */
export class LatencyHistogram {
  static readonly BUCKETS = 32;
  private readonly buckets = new Float64Array(LatencyHistogram.BUCKETS);
  private count = 0;
  private sumUs = 0;

  add(ms: number): void {
    const us = ms * 1000;
    const b = us <= 1 ? 0 : Math.min(31, Math.ceil(Math.log2(us)));
    this.buckets[b]!++;
    this.count++;
    this.sumUs += us;
  }

  /** Adds counts per bucket and their sum in microseconds (the C++ data path's histogram, same buckets). */
  addCounts(counts: ArrayLike<number>, from: number, sumUs: number): void {
    for (let b = 0; b < 32; b++) {
      const n = counts[from + b]!;
      this.buckets[b]! += n;
      this.count += n;
    }
    this.sumUs += sumUs;
  }

  /** Samples so far, their sum, and how many fell in each bucket (bucket b: up to 2^b us). */
  snapshot(): { count: number; sumUs: number; buckets: readonly number[] } {
    return { count: this.count, sumUs: this.sumUs, buckets: Array.from(this.buckets) };
  }

  /** Upper bound, in microseconds, under which a fraction `q` of the samples fall. */
  quantileUs(q: number): number {
    if (this.count === 0) return 0;
    const want = q * this.count;
    let seen = 0;
    for (let b = 0; b < 32; b++) {
      seen += this.buckets[b]!;
      if (seen >= want) return 2 ** b;
    }
    return 2 ** 31;
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.sumUs = 0;
  }
}
