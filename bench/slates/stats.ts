/** Mean and 95% t-interval over seeds (Student t, two-sided). */
const T975 = [
  NaN,
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

export function tQuantile975(df: number): number {
  if (df < 1) return NaN;
  return df < T975.length ? T975[df] : 1.96 + 2.4 / df;
}

export interface Interval {
  n: number;
  mean: number;
  lo: number;
  hi: number;
  sd: number;
}

export function meanCi(xs: number[]): Interval {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  const h = n > 1 ? (tQuantile975(n - 1) * sd) / Math.sqrt(n) : 0;
  return { n, mean, lo: mean - h, hi: mean + h, sd };
}
