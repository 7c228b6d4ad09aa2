/**
 * Bounded-memory distributions for the one-pass summary. Exact quantiles need every value; a day
 * can hold millions, so both structures here trade a documented, fixed resolution for memory
 * that does not grow with the number of rows.
 *
 * Quantile definition used everywhere (and by the tests' oracle): nearest rank. For n sorted
 * values v[1..n], the p-quantile (0 < p ≤ 1) is v[max(1, ceil(p·n))].
 */

/** Nearest-rank position (1-based) of quantile `p` among `n` values. */
export function nearestRank(p: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(p * n)));
}

/**
 * A histogram as plain JSON, for merging partial summaries (a report read in slices): fixed bins
 * make both histograms here mergeable without loss, unlike a sampling sketch.
 */
export interface HistogramState {
  n: number;
  sum: number;
  /** ScoreHistogram: the minimum seen; DurationHistogram: how many zeros. */
  lo: number;
  hi: number;
  /** [bin index, count] for every non-empty bin, ascending. */
  bins: Array<[number, number]>;
}

function nonEmptyBins(bins: Uint32Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < bins.length; i++) {
    const c = bins[i] ?? 0;
    if (c > 0) out.push([i, c]);
  }
  return out;
}

function absorbInto(bins: Uint32Array, from: ReadonlyArray<readonly [number, number]>): void {
  for (const [i, c] of from) {
    if (!Number.isInteger(i) || i < 0 || i >= bins.length)
      throw new RangeError(`histogram bin ${i} out of range`);
    bins[i] = (bins[i] ?? 0) + c;
  }
}

export interface Distribution {
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/**
 * Scores in [0, 1] on a fixed grid of 10,001 bins, one per 1e-4. A value is counted in the bin
 * of `round(v · 10⁴)`, so quantiles are exact for data with at most four decimals and within
 * ±0.00005 otherwise. Values outside [0, 1] land in the end bins (quantiles are then clamped to
 * the observed min/max); count, mean, min and max are always exact.
 */
export class ScoreHistogram {
  static readonly RESOLUTION = 1e-4;
  private readonly bins = new Uint32Array(10_001);
  private n = 0;
  private sum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  add(v: number): void {
    let bin = Math.round(v * 10_000);
    if (bin < 0) bin = 0;
    else if (bin > 10_000) bin = 10_000;
    this.bins[bin] = (this.bins[bin] ?? 0) + 1;
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  get count(): number {
    return this.n;
  }

  /** Everything the histogram holds, as plain JSON (bins as [index, count] pairs, non-empty only). */
  state(): HistogramState {
    return { n: this.n, sum: this.sum, lo: this.lo, hi: this.hi, bins: nonEmptyBins(this.bins) };
  }

  /**
   * Adds another histogram's state: counts, bins, min and max merge exactly, so the quantiles
   * of the merged histogram are those of one histogram fed every value. Only the mean's sum is
   * added in another order than one run would, so it can differ in the last bits (≈1e-15 relative).
   */
  absorb(s: HistogramState): void {
    absorbInto(this.bins, s.bins);
    this.n += s.n;
    this.sum += s.sum;
    if (s.n > 0) {
      if (s.lo < this.lo) this.lo = s.lo;
      if (s.hi > this.hi) this.hi = s.hi;
    }
  }

  quantile(p: number): number | null {
    if (this.n === 0) return null;
    const rank = nearestRank(p, this.n);
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i] ?? 0;
      if (seen >= rank) return Math.min(this.hi, Math.max(this.lo, i / 10_000));
    }
    return this.hi;
  }

  result(): Distribution {
    if (this.n === 0) return { count: 0, mean: null, min: null, max: null, p50: null, p90: null, p99: null };
    return {
      count: this.n,
      mean: this.sum / this.n,
      min: this.lo,
      max: this.hi,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
    };
  }
}

/**
 * Non-negative durations (milliseconds) on a logarithmic grid with relative accuracy ALPHA:
 * bin i holds values in (γ^(i-1), γ^i] with γ = (1+α)/(1-α), and reports 2γ^i/(γ+1), which is
 * within ±α (0.5 %) of any value in the bin. Zero has its own exact bin. 4,096 bins cover up to
 * γ^4095 ≈ 10^17 ms; larger values are clamped into the last bin. Memory: 16 KB, whatever n.
 */
export class DurationHistogram {
  static readonly ALPHA = 0.005;
  private static readonly GAMMA = (1 + DurationHistogram.ALPHA) / (1 - DurationHistogram.ALPHA);
  private static readonly LOG_GAMMA = Math.log(DurationHistogram.GAMMA);
  private readonly bins = new Uint32Array(4_096);
  private zeros = 0;
  private n = 0;
  private sum = 0;
  private hi = 0;

  add(ms: number): void {
    this.n++;
    this.sum += ms;
    if (ms > this.hi) this.hi = ms;
    if (ms <= 0) {
      this.zeros++;
      return;
    }
    let bin = Math.ceil(Math.log(ms) / DurationHistogram.LOG_GAMMA);
    // Values below 1 ms map to bin ≤ 0; the grid starts at 1 ms (γ^0).
    if (bin < 0) bin = 0;
    else if (bin >= this.bins.length) bin = this.bins.length - 1;
    this.bins[bin] = (this.bins[bin] ?? 0) + 1;
  }

  get count(): number {
    return this.n;
  }

  /** Everything the histogram holds, as plain JSON; `lo` carries the zero bin's count. */
  state(): HistogramState {
    return { n: this.n, sum: this.sum, lo: this.zeros, hi: this.hi, bins: nonEmptyBins(this.bins) };
  }

  /** Adds another histogram's state; exact but for the mean's sum (see ScoreHistogram.absorb). */
  absorb(s: HistogramState): void {
    absorbInto(this.bins, s.bins);
    this.zeros += s.lo;
    this.n += s.n;
    this.sum += s.sum;
    if (s.hi > this.hi) this.hi = s.hi;
  }

  quantile(p: number): number | null {
    if (this.n === 0) return null;
    const rank = nearestRank(p, this.n);
    if (rank <= this.zeros) return 0;
    let seen = this.zeros;
    const g = DurationHistogram.GAMMA;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i] ?? 0;
      if (seen >= rank) return Math.min(this.hi, (2 * g ** i) / (g + 1));
    }
    return this.hi;
  }

  get mean(): number | null {
    return this.n === 0 ? null : this.sum / this.n;
  }

  get max(): number | null {
    return this.n === 0 ? null : this.hi;
  }
}
