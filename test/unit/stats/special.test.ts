import { describe, expect, it } from 'vitest';
import {
  chiSquareSurvival,
  kolmogorovSmirnovPValue,
  kolmogorovSurvival,
  normalCdf,
  normalQuantile,
  studentTCdf,
  studentTQuantile,
  studentTTwoSided,
} from '../../../src/core/stats/special';
import reference from '../../fixtures/stats/special_reference.json';

// Reference values: test/fixtures/stats/special_reference.py (numpy 1.24, scipy 1.10).

function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}

describe("Student's t", () => {
  // Observed: ≤ 6e-13 (cdf) and ≤ 1.2e-12 (two-sided), from the incomplete beta's continued fraction.
  it.each(reference.tCdf.map((c) => [c.t, c.df, c] as const))('cdf and two-sided p at t=%f, df=%i', (_t, _df, c) => {
    expect(relativeError(studentTCdf(c.t, c.df), c.cdf)).toBeLessThan(1e-11);
    expect(relativeError(studentTTwoSided(c.t, c.df), c.twoSided)).toBeLessThan(1e-11);
  });

  // Observed: ≤ 5.6e-11, worst at p = 1 − 1e-6 where 1 − p itself has lost 6 digits.
  it.each(reference.tPpf.map((c) => [c.p, c.df, c] as const))('quantile at p=%f, df=%i', (_p, _df, c) => {
    const q = studentTQuantile(c.p, c.df);
    if (c.ppf === 0) expect(q).toBe(0);
    else expect(relativeError(q, c.ppf)).toBeLessThan(1e-10);
  });
});

describe('normal', () => {
  const cdf = reference.normalCdf;
  const ppf = reference.normalPpf;

  it('cdf: relative 1e-13 from x = −3 up, 1e-6 down to x = −6.5, absolute 2e-16 everywhere', () => {
    for (const c of cdf) {
      const value = normalCdf(c.x);
      expect(Math.abs(value - c.cdf), `x=${c.x}`).toBeLessThan(2e-16);
      if (c.x >= -3) expect(relativeError(value, c.cdf), `x=${c.x}`).toBeLessThan(1e-13);
      else if (c.x >= -6.5) expect(relativeError(value, c.cdf), `x=${c.x}`).toBeLessThan(1e-6);
    }
  });

  // The left tail comes from 0.5·Q(½, x²/2) directly (0.5 − ½·P would cancel to nothing).
  it('cdf keeps its relative accuracy in the far left tail (x ≤ −8)', () => {
    for (const c of cdf.filter((c) => c.x <= -8)) expect(relativeError(normalCdf(c.x), c.cdf)).toBeLessThan(1e-10);
  });

  // Observed: ≤ 1e-15 in the body, 1.5e-9 at p = 1e-10 (the Halley step inherits the cdf's error).
  it('quantile: relative 1e-8 for 1e-10 ≤ p ≤ 1 − 1e-10', () => {
    for (const c of ppf.filter((c) => c.p >= 1e-10)) {
      const q = normalQuantile(c.p);
      if (c.ppf === 0) expect(q).toBe(0);
      else expect(relativeError(q, c.ppf), `p=${c.p}`).toBeLessThan(1e-8);
    }
  });

  it('quantile keeps its accuracy below p = 1e-10', () => {
    for (const c of ppf.filter((c) => c.p < 1e-10)) expect(relativeError(normalQuantile(c.p), c.ppf)).toBeLessThan(1e-8);
  });
});

describe('chi-square survival', () => {
  // Observed: ≤ 2.3e-14 over df 1..50, including tail values down to ~1e-30.
  it('matches scipy.stats.chi2.sf for df 1..50 within 1e-11 relative', () => {
    expect(reference.chi2Sf.length).toBeGreaterThan(250);
    for (const c of reference.chi2Sf) {
      expect(relativeError(chiSquareSurvival(c.x, c.df), c.sf), `x=${c.x}, df=${c.df}`).toBeLessThan(1e-11);
    }
  });
});

describe('Kolmogorov–Smirnov', () => {
  it('kolmogorovSurvival matches scipy.special.kolmogorov', () => {
    for (const c of reference.kolmogorov) expect(relativeError(kolmogorovSurvival(c.lambda), c.sf)).toBeLessThan(1e-12);
  });

  /*
   * kolmogorovSmirnovPValue is asymptotic (with Stephens' correction); scipy's ks_2samp
   * (method='exact') is exact. Observed |ours − exact| on the recorded cases:
   *   n=m=10: ≤ 0.112 (p ≈ 0.79 vs 0.68)   20×30: ≤ 0.0065   50×50: ≤ 0.031   100×80: ≤ 0.0076
   *   200×300: ≤ 0.0016                    500×500: ≤ 0.0104 (p ≈ 0.41 vs 0.40)
   * The exact distribution of D is discrete (steps of 1/lcm(n, m)), so a smooth approximation is
   * off by about one step's probability mass near the centre, whatever its quality; scipy's own
   * method='asymp' is off by as much (0.12 at 10×10, 0.036 at 50×50). In the tail (exact p <
   * 0.05), the relative error is ≤ 41 % at 10×10 and ≤ 20 % from 20 per side on, always
   * below the exact p (slightly anti-conservative). Tolerances: absolute 0.12 below 20 per
   * side, 0.04 from 20 on; relative in the tail 0.5 below 20 per side, 0.25 from 20 on.
   */
  it.each(reference.ks2samp.map((c) => [c.n, c.m, c.d, c] as const))('two-sample %i×%i, D=%f, is close to scipy’s exact p', (_n, _m, _d, c) => {
    const p = kolmogorovSmirnovPValue(c.d, c.n, c.m);
    const small = Math.min(c.n, c.m) < 20;
    expect(Math.abs(p - c.exact)).toBeLessThan(small ? 0.12 : 0.04);
    if (c.exact < 0.05) expect(relativeError(p, c.exact)).toBeLessThan(small ? 0.5 : 0.25);
    // Never further from the exact value than scipy's own asymptotic p by more than 0.01.
    expect(Math.abs(p - c.exact)).toBeLessThan(Math.abs(c.scipyAsymp - c.exact) + 0.01);
  });

  /*
   * One sample (m → ∞) against scipy.stats.kstwo: observed |ours − exact| ≤ 0.014 (n=10 and
   * n=30 at p = 0.5), ≤ 4e-4 for p ≤ 0.05; relative ≤ 21 % in the tail (n=10, p=0.001), ≤ 3 %
   * from n = 30 on.
   */
  it.each(reference.kstwo.map((c) => [c.n, c.sf, c] as const))('one-sample n=%i at p=%f is close to kstwo', (_n, _p, c) => {
    const p = kolmogorovSmirnovPValue(c.d, c.n, 1e15);
    expect(Math.abs(p - c.sf)).toBeLessThan(0.015);
    if (c.sf <= 0.05) expect(relativeError(p, c.sf)).toBeLessThan(c.n < 30 ? 0.25 : 0.05);
  });
});
