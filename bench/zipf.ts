/** Samples ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s, by inverse CDF. */
export class Zipf {
  private readonly cdf: Float64Array;
  private state: number;

  constructor(n: number, s: number, seed: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
    this.state = seed >>> 0 || 1;
  }

  next(): number {
    // xorshift32: fast and good enough to pick keys.
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    const u = this.state / 4294967296;
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
