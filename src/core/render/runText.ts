/** Plain-text views of runs, for the terminal. */
import { llmLines } from './llmText';
import { printable } from '../printable';
import { type Change, locationKey, type RunDiff } from '../diff';
import type { JsonValue, RunEnvelope } from '../envelope';
import type { RunSummary } from '../store/runIndex';
import type { StoreProblem } from '../store/runStore';
import { cellIdsOf, cellLabel, locationLabel } from '../notebook/cellLabel';
import { cellChangeText, formatAge, formatBytes, formatDuration, formatNumber, formatPercent, formatSigned, keyMetrics, shortHash } from './format';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function describeProblem(problem: StoreProblem): string {
  return `${problem.file}: ${problem.field === '(json)' || problem.field === '(file)' ? '' : `field "${problem.field}": `}${problem.message}`;
}

export function renderRunList(runs: RunSummary[], now: number = Date.now()): string {
  if (runs.length === 0) return 'No runs.';
  return table(
    ['ID', 'NAME', 'SOURCE', 'STATUS', 'STARTED', 'DURATION', 'METRICS'],
    runs.map((r) => [
      r.id,
      printable(r.name),
      r.sourcePath,
      r.status,
      formatAge(r.startedAt, now),
      formatDuration(r.durationMs),
      keyMetrics(r.metrics, [], 3)
        .map(([name, value]) => `${name}=${formatNumber(value)}`)
        .join(' '),
    ]),
  );
}

const json = (v: JsonValue): string => (typeof v === 'string' ? v : JSON.stringify(v));

function section(title: string, lines: string[]): string[] {
  return lines.length ? ['', `${title}:`, ...lines.map((l) => `  ${l}`)] : [];
}

export function renderRun(run: RunEnvelope, now: number = Date.now()): string {
  const out: string[] = [
    `Run ${run.id}  ${printable(run.name)}`,
    `  status    ${run.status}${run.error ? ` — ${run.error.message}` : ''}`,
    `  source    ${run.source.path} (${run.kind}, code ${shortHash(run.source.sha256)})`,
    `  started   ${run.startedAt} (${formatAge(run.startedAt, now)}), took ${formatDuration(run.durationMs)}`,
    `  git       ${run.git ? `${run.git.commit.slice(0, 12)} on ${run.git.branch ?? '(detached)'}${run.git.dirty ? ', uncommitted changes' : ''}` : 'not a git repository'}`,
  ];
  if (run.group) out.push(`  group     ${printable(run.group)}`);
  if (run.parent) out.push(`  parent    ${run.parent}`);
  if (run.tags.length) out.push(`  tags      ${run.tags.map((t) => printable(t)).join(', ')}`);
  if (run.source.command) out.push(`  command   ${run.source.command.join(' ')}`);
  out.push(
    ...section(
      'Metrics',
      Object.entries(run.metrics)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([name, m]) => `${name} = ${formatNumber(m.value)}${m.series?.length ? `  (${m.series.length} steps)` : ''}`),
    ),
  );
  const paramLine = ([k, v]: [string, JsonValue]) => `${k} = ${json(v)}${run.paramSources?.[k] ? `  (${run.paramSources[k]})` : ''}`;
  const params = Object.entries(run.params);
  out.push(...section('Params', params.filter(([k]) => run.paramSources?.[k] !== 'autolog').map(paramLine)));
  out.push(...section('Estimator params (autologged at fit)', params.filter(([k]) => run.paramSources?.[k] === 'autolog').map(paramLine)));
  const idOf = cellIdsOf(run.source.cells);
  out.push(...section('Seeds', run.seeds.map((s) => `${s.library} = ${json(s.value)}  at ${locationLabel(s.location, idOf)}`)));
  out.push(...section('Unseeded randomness', run.unseeded.map((u) => `${u.call}  at ${locationLabel(u.location, idOf)}`)));
  out.push(...section('Inputs', run.inputs.map((f) => `${f.path}  ${shortHash(f.sha256)}  ${formatBytes(f.bytes)}${f.profile ? `  ${f.profile.rows} rows × ${f.profile.columns.length} columns` : ''}`)));
  out.push(...section('Outputs', run.outputs.map((f) => `${f.path}  ${shortHash(f.sha256)}  ${formatBytes(f.bytes)}`)));
  out.push(...section('Artifacts', run.artifacts.map((f) => `${f.path}  (${f.kind})  ${shortHash(f.sha256)}  ${formatBytes(f.bytes)}`)));
  const env = run.environment;
  out.push(
    ...section('Environment', [
      `python ${env.python ? `${env.python.version} (${env.python.executable})` : 'unknown'}`,
      `packages ${Object.entries(env.packages).map(([n, v]) => `${n}==${v}`).join(', ') || 'none recorded'}`,
      `lock file ${env.lockFile ? `${env.lockFile.path} (${shortHash(env.lockFile.sha256)})` : 'none'}`,
      `os ${env.os.platform} ${env.os.release} ${env.os.arch}`,
      `environment variables (names only) ${env.envVarNames.length}`,
    ]),
  );
  const hw = run.hardware;
  out.push(...section('Hardware', [`${hw.cpuModel}, ${hw.cores} cores, ${formatBytes(hw.memoryBytes)}${hw.gpus.length ? `, GPUs: ${hw.gpus.map((g) => g.name).join(', ')}` : ''}`]));
  if (run.source.cells.length) {
    out.push(
      ...section(
        'Cells',
        run.source.cells.map((c) => `${cellLabel(c.index).padEnd(9)} ${c.status.padEnd(9)} ${c.durationMs === null ? '' : formatDuration(c.durationMs).padStart(8)}  ${shortHash(c.sha256)}${c.id ? `  id ${c.id}` : ''}`),
      ),
    );
  }
  if (run.llm) out.push(...section('LLM calls', llmLines(run.llm)));
  if (run.error?.traceback) out.push(...section('Error', run.error.traceback.split('\n')));
  return out.join('\n');
}

function changeLines<T>(changes: Array<Change<T>>, show: (v: T) => string): string[] {
  return changes.map((c) => {
    if (c.kind === 'added') return `+ ${c.key}: ${show(c.b)}`;
    if (c.kind === 'removed') return `- ${c.key}: ${show(c.a)}`;
    return `~ ${c.key}: ${show(c.a)} → ${show(c.b)}`;
  });
}

export function renderDiff(diff: RunDiff): string {
  const out: string[] = [`A  ${diff.a.id}  ${printable(diff.a.name)}`, `B  ${diff.b.id}  ${printable(diff.b.name)}`];
  const str = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const hash = (v: string) => shortHash(v);
  if (diff.sourcePath) out.push('', `Source: ${diff.sourcePath.kind === 'changed' ? `${diff.sourcePath.a} → ${diff.sourcePath.b}` : ''}`);
  out.push('', diff.sameCode ? 'Code: identical' : `Code: ${diff.cells.length} cell${diff.cells.length === 1 ? '' : 's'} differ`);
  out.push(
    ...diff.cells.map(
      (c) => `  ${c.kind === 'added' ? '+' : c.kind === 'removed' ? '-' : '~'} ${cellChangeText(c)}`,
    ),
  );
  out.push(...section('Params', changeLines(diff.params, str)));
  out.push(...section('Seeds', changeLines(diff.seeds.map((c) => ({ ...c, key: locationKey(c.key) })), str)));
  out.push(...section('Unseeded randomness', changeLines(diff.unseeded.map((c) => ({ ...c, key: locationKey(c.key) })), str)));
  out.push(...section('Inputs (by content hash)', changeLines(diff.inputs, hash)));
  out.push(...section('Outputs (by content hash)', changeLines(diff.outputs, hash)));
  out.push(...section('Packages', changeLines(diff.packages, str)));
  out.push(...section('Environment', changeLines(diff.environment, str)));
  out.push(...section('Git', changeLines(diff.git, str)));
  out.push(...section('Hardware', changeLines(diff.hardware, str)));
  out.push(
    ...section(
      'Metrics',
      diff.metrics.map(
        (m) => `${m.name}: ${formatNumber(m.a)} → ${formatNumber(m.b)}${m.delta !== null ? `  (${formatSigned(m.delta)}${m.relative !== null ? `, ${formatPercent(m.relative)}` : ''})` : ''}`,
      ),
    ),
  );
  return out.join('\n');
}
