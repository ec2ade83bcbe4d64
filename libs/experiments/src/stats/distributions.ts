// Distribution functions from @stdlib (ports of Cephes/Boost: accurate to a few ulps), wrapped
// once so the statistics read like scipy.stats, which gbstats uses.
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';

/** scipy.stats.norm.cdf(x, mu, sigma). */
export const normCdf = (x: number, mu = 0, sigma = 1): number => normalCdf(x, mu, sigma);
/** scipy.stats.norm.sf(x, mu, sigma) = 1 - cdf, computed as cdf of the mirrored point (no cancellation). */
export const normSf = (x: number, mu = 0, sigma = 1): number => normalCdf(2 * mu - x, mu, sigma);
/** scipy.stats.norm.ppf(p, mu, sigma). */
export const normPpf = (p: number, mu = 0, sigma = 1): number => normalQuantile(p, mu, sigma);
/** Standard normal density. */
export const normPdf = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
/** scipy.stats.t.cdf(x, dof). */
export const studentCdf = (x: number, dof: number): number => tCdf(x, dof);
/** scipy.stats.t.ppf(p, dof). */
export const studentPpf = (p: number, dof: number): number => tQuantile(p, dof);
/** scipy.stats.chi2.sf(x, k). */
export const chi2Sf = (x: number, k: number): number => 1 - chisquareCdf(x, k);
