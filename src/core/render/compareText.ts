/**
 * A comparison of runs for the terminal: per metric, each group's mean with its interval, and
 * each candidate's difference from the baseline with its interval, Holm-adjusted p-value,
 * effect size and the test used; then the params that differ and the flags, in words.
 */
import { type Comparison, type MetricDifference, VERDICT_TEXT } from '../stats/compare';
import { formatNumber, formatSigned } from './format';

export function renderComparison(comparison: Comparison): string {
  const lines: string[] = [];
  const level = `${Math.round(comparison.confidence * 100)}%`;
  const groups = comparison.groups.map(
    (g, i) => `${g.label}${i === comparison.baselineIndex ? ' (baseline)' : ''}: ${plural(g.runIds.length, 'run')}${g.duplicates.length ? ` (+${g.duplicates.length} duplicate${g.duplicates.length === 1 ? '' : 's'} counted once)` : ''}`,
  );
  lines.push(`Comparing ${plural(comparison.groups.length, 'group')} — ${groups.join('; ')}.`);
  for (const metric of comparison.metrics) {
    lines.push('', metric.metric);
    const rows: string[][] = [['group', 'n', 'mean', `${level} interval`, `Δ vs ${comparison.baseline}`, `${level} interval`, 'p (Holm)', 'effect', 'test', 'verdict']];
    metric.summaries.forEach((summary, index) => {
      const difference = metric.differences.find((d) => d.group === summary.group);
      rows.push([
        summary.group + (index === comparison.baselineIndex ? ' *' : ''),
        String(summary.n),
        formatNumber(summary.mean),
        interval(summary.interval, false),
        difference ? formatSigned(difference.estimate) : '',
        difference ? interval(difference.interval, true) : '',
        difference ? pValue(difference) : '',
        difference?.effectSize ? `${difference.effectSize.name === 'cohen-dz' ? 'd_z' : 'g'} ${formatNumber(difference.effectSize.value)}` : '',
        difference ? testName(difference) : '',
        difference ? VERDICT_TEXT[difference.verdict] : index === comparison.baselineIndex ? 'baseline' : '',
      ]);
    });
    lines.push(...table(rows).map((line) => `  ${line}`));
  }
  const differing = comparison.params.filter((p) => p.differs && !p.seedLike);
  if (differing.length) {
    lines.push('', 'Params that differ:');
    for (const param of differing) {
      const values = param.values.map((vs, i) => `${comparison.groups[i]!.label}=${vs.map((v) => JSON.stringify(v)).join('|') || '—'}`);
      lines.push(`  ${param.name}: ${values.join('  ')}`);
    }
  }
  if (comparison.flags.length) {
    lines.push('', 'Read with care:');
    for (const flag of comparison.flags) lines.push(`  ${flag.severity === 'warning' ? '!' : '·'} ${flag.message}`);
  }
  lines.push('', `* baseline. Intervals are ${level} t-intervals; p-values are two-sided, Holm-adjusted across candidates per metric.`);
  return lines.join('\n');
}

function interval(value: [number, number] | null, signed: boolean): string {
  if (!value) return '—';
  const show = signed ? formatSigned : formatNumber;
  return `[${show(value[0])}, ${show(value[1])}]`;
}

function pValue(difference: MetricDifference): string {
  const p = difference.pAdjusted ?? difference.p;
  if (p === null) return '—';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

function testName(difference: MetricDifference): string {
  if (difference.test === 'paired-t') return `paired t (${difference.pairedBy ?? 'paired'})`;
  if (difference.test === 'welch-t') return 'Welch t';
  return 'none';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
