import { describe, expect, it } from 'vitest';
import { computeDrift } from '../../../src/core/drift/drift';
import { profileReference, type TableProfile } from '../../../src/core/drift/profileReference';
import {
  binCounts,
  chiSquareHomogeneity,
  decileEdges,
  jensenShannonDistance,
  ksStatistic,
  ksStatisticBinned,
  psi,
  psiCuts,
  quantileSorted,
  sharedHistogram,
  sortedFinite,
  wasserstein1,
  wasserstein1Binned,
} from '../../../src/core/drift/statistics';
import { kolmogorovSmirnovPValue } from '../../../src/core/stats/special';
import reference from '../../fixtures/stats/drift_reference.json';
import { countsCol, dataset, numericCol } from './helpers';

const close = (actual: number, expected: number, relative = 1e-9) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(expected)));

describe('numeric statistics against numpy/scipy', () => {
  for (const c of reference.numeric) {
    describe(c.name, () => {
      const a = sortedFinite(Float64Array.from(c.reference));
      const b = sortedFinite(Float64Array.from(c.current));
      const e = c.expected;

      it('deciles and PSI bins match np.quantile and the PSI defined in the generator', () => {
        const edges = decileEdges(a);
        expect(edges).toEqual(e.deciles);
        const cuts = psiCuts(edges);
        expect(binCounts(a, cuts)).toEqual(e.referenceBinCounts);
        expect(binCounts(b, cuts)).toEqual(e.currentBinCounts);
        close(psi(binCounts(a, cuts), binCounts(b, cuts)), e.psi, 1e-12);
      });

      it('KS statistic equals scipy ks_2samp; the p-value is near its exact one', () => {
        const d = ksStatistic(a, b);
        close(d, e.ks, 1e-12);
        const p = kolmogorovSmirnovPValue(d, a.length, b.length);
        // Stephens' asymptotic formula against scipy's exact p-value: close, not equal.
        expect(Math.abs(p - e.ksPValueExact)).toBeLessThanOrEqual(Math.max(0.02, 0.25 * e.ksPValueExact));
      });

      it('Wasserstein-1 equals scipy wasserstein_distance', () => {
        close(wasserstein1(a, b), e.wasserstein, 1e-9);
      });

      it('the chart histogram equals np.histogram over the pooled range', () => {
        const h = sharedHistogram(a, b, 20);
        h.edges.forEach((x, i) => close(x, e.histogramEdges[i]!, 1e-12));
        h.reference.forEach((x, i) => close(x, e.histogramReference[i]!, 1e-12));
        h.current.forEach((x, i) => close(x, e.histogramCurrent[i]!, 1e-12));
      });

      it('computeDrift reports the same numbers', () => {
        const report = computeDrift(dataset('ref', [numericCol('x', c.reference)]), dataset('cur', [numericCol('x', c.current)]));
        const col = report.columns[0]!;
        expect(col.kind).toBe('numeric');
        close(col.psi!, e.psi, 1e-12);
        close(col.test!.statistic, e.ks, 1e-12);
        close(col.effect!.raw!, e.wasserstein, 1e-9);
        if (e.wassersteinNormalised === null) expect(col.effect!.value).toBeNull();
        else close(col.effect!.value!, e.wassersteinNormalised, 1e-9);
        close(col.reference.mean!, e.referenceMean, 1e-12);
        close(col.reference.std!, e.referenceStd1, 1e-9);
      });
    });
  }

  it('quantiles are numpy-linear', () => {
    const s = Float64Array.from([1, 2, 3, 4, 10]);
    expect(quantileSorted(s, 0.5)).toBe(3);
    expect(quantileSorted(s, 0.9)).toBeCloseTo(7.6, 12);
  });
});

describe('categorical statistics against scipy', () => {
  for (const c of reference.categorical) {
    it(c.name, () => {
      const labels = [...new Set([...Object.keys(c.reference), ...Object.keys(c.current)])].sort();
      const ref = c.reference as unknown as Record<string, number>;
      const cur = c.current as unknown as Record<string, number>;
      const r = labels.map((k) => ref[k] ?? 0);
      const k = labels.map((l) => cur[l] ?? 0);
      const e = c.expected;
      close(psi(r, k), e.psi, 1e-12);
      const chi = chiSquareHomogeneity(r, k);
      close(chi.statistic, e.chiSquare, 1e-10);
      expect(chi.df).toBe(e.df);
      expect(Math.abs(chi.pValue - e.chiSquarePValue)).toBeLessThanOrEqual(1e-9 * Math.max(e.chiSquarePValue, 1e-300) + 1e-300);
      close(jensenShannonDistance(r, k), e.jensenShannon, 1e-12);

      const report = computeDrift(dataset('ref', [countsCol('x', ref)]), dataset('cur', [countsCol('x', cur)]));
      const col = report.columns[0]!;
      expect(col.kind).toBe('categorical');
      close(col.psi!, e.psi, 1e-12);
      close(col.test!.statistic, e.chiSquare, 1e-10);
      expect(col.test!.df).toBe(e.df);
      close(col.effect!.value!, e.jensenShannon, 1e-12);
      expect(col.unseenCategories!.count).toBe(e.unseen.length);
      expect([...col.unseenCategories!.examples].sort()).toEqual(e.unseen);
    });
  }
});

describe('against a run profile', () => {
  for (const c of reference.profileNumeric) {
    it(`${c.name}: PSI exact, KS and Wasserstein binned as the generator defines them`, () => {
      const e = c.expected;
      const profile = c.profile as TableProfile;
      const bins = profile.columns[0]!.bins!;
      const b = sortedFinite(Float64Array.from(c.current));
      close(ksStatisticBinned(bins.edges, bins.counts, b), e.ksBinned, 1e-12);
      // the generator integrates on a grid: agreement to its resolution
      close(wasserstein1Binned(bins.edges, bins.counts, b), e.wassersteinBinned, 1e-5);

      const report = computeDrift(profileReference(profile, 'run X'), dataset('cur', [numericCol('x', c.current)]));
      const col = report.columns[0]!;
      close(col.psi!, e.psi, 1e-12);
      expect(col.test).toMatchObject({ name: 'ks', approximate: true });
      expect(col.effect).toMatchObject({ name: 'wasserstein', approximate: true });
      close(col.test!.statistic, e.ksBinned, 1e-12);
      if (e.wassersteinBinnedNormalised === null) expect(col.effect!.value).toBeNull();
      else close(col.effect!.value!, e.wassersteinBinnedNormalised, 1e-5);
      // How far from the exact statistics on the raw values: KS is a lower bound; Wasserstein
      // overstates when the outer deciles are long tails (spread evenly in the binned model).
      expect(col.test!.statistic).toBeLessThanOrEqual(e.ksExact + 1e-12);
      expect(e.ksExact - col.test!.statistic).toBeLessThan(0.01);
      expect(col.effect!.raw!).toBeLessThan(1.4 * e.wassersteinExact + 0.01);

      // PSI against the profile equals PSI against the raw reference values it was made from.
      const direct = computeDrift(dataset('ref', [numericCol('x', c.referenceValues)]), dataset('cur', [numericCol('x', c.current)]));
      close(direct.columns[0]!.psi!, col.psi!, 1e-12);
    });
  }

  for (const c of reference.profileCategorical) {
    it(`${c.name}: top values plus an "(other)" bucket`, () => {
      const e = c.expected;
      const report = computeDrift(profileReference(c.profile as TableProfile, 'run X'), dataset('cur', [countsCol('x', c.current as Record<string, number>)]));
      const col = report.columns[0]!;
      close(col.psi!, e.psi, 1e-12);
      close(col.test!.statistic, e.chiSquare, 1e-10);
      expect(col.test!.df).toBe(e.df);
      close(col.effect!.value!, e.jensenShannon, 1e-12);
      expect(col.unseenCategories).toBeNull();
      expect(col.histogram).toMatchObject({ type: 'categories' });
      if (col.histogram?.type === 'categories') expect(col.histogram.labels.at(-1)).toBe('(other)');
    });
  }
});

describe('sortFloat64', () => {
  it('sorts like the native numeric sort (radix path for large arrays)', () => {
    let seed = 42;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const values = Float64Array.from({ length: 20000 }, (_, i) => (i % 7 === 0 ? Math.round(next() * 10) : (next() - 0.4) * 10 ** Math.floor(next() * 20 - 10)));
    values.set([0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 1e308, -1e308, 3, 3, 3], 0);
    const expected = values.slice().sort();
    const actual = sortedFinite(values);
    expect(Array.from(actual)).toEqual(Array.from(expected));
    const constant = new Float64Array(10000).fill(2.5);
    expect(sortedFinite(constant).every((v) => v === 2.5)).toBe(true);
  });
});
