/**
 * HTML bodies of the run page and the diff page. Every value from an envelope is escaped: an
 * envelope is a file on disk that anyone could have written. Links carry their target in
 * data attributes; the webview script turns clicks into protocol messages.
 */
import { type Change, locationKey, type RunDiff } from '../diff';
import type { JsonValue, RunEnvelope } from '../envelope';
import { cellIdsOf, cellLabel, cellNumber, locationLabel } from '../notebook/cellLabel';
import { formatAge, formatBytes, formatDuration, formatNumber, formatPercent, formatSigned, shortHash } from './format';
import { formatCost, llmLines } from './llmText';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A tagged template that escapes interpolations unless they are `raw(...)` fragments. */
class Raw {
  constructor(readonly html: string) {}
}
export const raw = (html: string): Raw => new Raw(html);
export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((value, i) => {
    const rendered = Array.isArray(value)
      ? value.map((v) => (v instanceof Raw ? v.html : escapeHtml(v))).join('')
      : value instanceof Raw
        ? value.html
        : value === null || value === undefined || value === false
          ? ''
          : escapeHtml(value);
    out += rendered + strings[i + 1]!;
  });
  return new Raw(out);
}

const jsonText = (v: JsonValue): string => (typeof v === 'string' ? v : JSON.stringify(v));

function fileLink(path: string): Raw {
  return html`<a href="#" class="file-link" data-open-file="${path}" title="Open ${path}">${path}</a>`;
}

function hashCell(hash: string): Raw {
  return html`<code class="hash" title="${hash}">${shortHash(hash)}</code>`;
}

function sectionBlock(id: string, title: string, body: Raw | null, count?: number): Raw {
  if (!body) return raw('');
  return html`<section id="${id}"><h2>${title}${count === undefined ? '' : raw(` <span class="count">${count}</span>`)}</h2>${body}</section>`;
}

function tableOf(headers: string[], rows: Raw[][], className = ''): Raw {
  return html`<table class="${className}"><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map(
    (r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`,
  )}</tbody></table>`;
}

const text = (v: unknown): Raw => html`${v}`;
const empty = (what: string): Raw => html`<p class="empty">${what}</p>`;

function statusBadge(status: string): Raw {
  return html`<span class="badge status-${status}">${status}</span>`;
}

/** The body of the run page. */
export function renderRunHtml(run: RunEnvelope, now: number = Date.now()): string {
  const env = run.environment;
  const hw = run.hardware;
  const metrics = Object.entries(run.metrics).sort(([a], [b]) => a.localeCompare(b));
  const header = html`
    <header>
      <h1>${run.name}</h1>
      <nav class="actions" aria-label="Actions on this run">
        <button data-action="replay" title="Run the code snapshot again with the same params and check that it reproduces">Replay</button>
        <button data-action="register" title="Register a model version from this run's model file">Register</button>
        <button data-action="compare" title="Compare this run (and its repeats) with other runs">Compare…</button>
        <button data-action="diff" title="What changed between this run and another">Diff…</button>
        ${run.kind === 'notebook' ? html`<button data-action="scaffold" title="Generate the production service from this run">Scaffold…</button>` : ''}
      </nav>
      <div class="meta">
        ${statusBadge(run.status)}
        <span>${run.kind} ${fileLink(run.source.path)}</span>
        <span title="${run.startedAt}">started ${formatAge(run.startedAt, now)}</span>
        <span>took ${formatDuration(run.durationMs)}</span>
      </div>
      <dl class="facts">
        <dt>Run id</dt><dd><code>${run.id}</code></dd>
        <dt>Code</dt><dd>${hashCell(run.source.sha256)} ${run.source.cells.length ? `(${run.source.cells.length} code cells)` : ''}</dd>
        <dt>Git</dt><dd>${run.git ? html`<code>${run.git.commit.slice(0, 12)}</code> on ${run.git.branch ?? '(detached HEAD)'}${run.git.dirty ? raw(' <span class="warn">with uncommitted changes</span>') : ''}` : 'not a git repository'}</dd>
        ${run.group ? html`<dt>Group</dt><dd>${run.group}</dd>` : ''}
        ${run.parent ? html`<dt>Parent run</dt><dd><a href="#" data-run-id="${run.parent}"><code>${run.parent}</code></a></dd>` : ''}
        ${run.tags.length ? html`<dt>Tags</dt><dd>${run.tags.map((t) => html`<span class="tag">${t}</span>`)}</dd>` : ''}
        ${run.source.command ? html`<dt>Command</dt><dd><code>${run.source.command.join(' ')}</code></dd>` : ''}
      </dl>
    </header>`;

  const idOf = cellIdsOf(run.source.cells);
  const errorBlock = run.error
    ? html`<section id="error" class="error"><h2>Error</h2><p>${run.error.message}${run.error.cell !== undefined ? ` (in ${cellLabel(run.error.cell, idOf(run.error.cell))})` : ''}</p>${run.error.traceback ? html`<pre>${run.error.traceback}</pre>` : ''}</section>`
    : raw('');

  const metricsBlock = metrics.length
    ? tableOf(
        ['Metric', 'Value', 'Steps'],
        metrics.map(([name, m]) => [text(name), html`<span class="num">${formatNumber(m.value)}</span>`, text(m.series?.length ?? '')]),
        'metrics',
      )
    : empty('No metrics were logged.');

  const params = Object.entries(run.params);
  // Autologged estimator params are many and rarely what a reader looks for first: folded.
  const isAutolog = ([k]: [string, JsonValue]) => run.paramSources?.[k] === 'autolog';
  const ownParams = params.filter((p) => !isAutolog(p));
  const autoParams = params.filter(isAutolog);
  const paramRows = (list: Array<[string, JsonValue]>) => list.map(([k, v]) => [text(k), html`<code>${jsonText(v)}</code>`, text(run.paramSources?.[k] ?? '')]);
  const paramsBlock = params.length
    ? html`${ownParams.length ? tableOf(['Param', 'Value', 'From'], paramRows(ownParams)) : empty('No params of its own; see the estimator params.')}${autoParams.length
        ? html`<details class="autolog"><summary>Estimator params (autologged at fit) <span class="count">${autoParams.length}</span></summary>${tableOf(['Param', 'Value', 'From'], paramRows(autoParams))}</details>`
        : ''}`
    : empty('No params were recorded.');

  const seedsBlock = html`${run.seeds.length
    ? tableOf(['Library', 'Seed', 'Where'], run.seeds.map((s) => [text(s.library), html`<code>${jsonText(s.value)}</code>`, text(locationLabel(s.location, idOf))]))
    : empty('No seeds were set.')}${run.unseeded.length
    ? html`<div class="callout warn"><strong>Randomness used without a seed</strong>${tableOf(['Call', 'Where'], run.unseeded.map((u) => [html`<code>${u.call}</code>`, text(locationLabel(u.location, idOf))]))}</div>`
    : ''}`;

  const inputsBlock = run.inputs.length
    ? tableOf(
        ['File', 'sha256', 'Size', 'Profile'],
        run.inputs.map((f) => [fileLink(f.path), hashCell(f.sha256), text(formatBytes(f.bytes)), text(f.profile ? `${f.profile.rows} rows × ${f.profile.columns.length} columns` : '')]),
      )
    : empty('The run read no files.');
  const outputsBlock = run.outputs.length
    ? tableOf(['File', 'sha256', 'Size'], run.outputs.map((f) => [fileLink(f.path), hashCell(f.sha256), text(formatBytes(f.bytes))]))
    : empty('The run wrote no files.');
  const artifactsBlock = run.artifacts.length
    ? tableOf(['Artifact', 'Kind', 'sha256', 'Size'], run.artifacts.map((f) => [fileLink(f.path), text(f.kind), hashCell(f.sha256), text(formatBytes(f.bytes))]))
    : null;

  const packages = Object.entries(env.packages).sort(([a], [b]) => a.localeCompare(b));
  const environmentBlock = html`
    <dl class="facts">
      <dt>Python</dt><dd>${env.python ? `${env.python.version} (${env.python.executable})` : 'unknown'}</dd>
      <dt>Lock file</dt><dd>${env.lockFile ? html`${fileLink(env.lockFile.path)} ${hashCell(env.lockFile.sha256)}` : raw('<span class="warn">none found</span>')}</dd>
      <dt>OS</dt><dd>${env.os.platform} ${env.os.release} (${env.os.arch})</dd>
      <dt>Hardware</dt><dd>${hw.cpuModel}, ${hw.cores} cores, ${formatBytes(hw.memoryBytes)}${hw.gpus.length ? `, GPUs: ${hw.gpus.map((g) => g.name).join(', ')}` : ', no GPU'}</dd>
      <dt>Environment variables</dt><dd>${env.envVarNames.length} names recorded (values are never recorded)</dd>
    </dl>
    ${packages.length ? tableOf(['Package', 'Version'], packages.map(([n, v]) => [text(n), html`<code>${v}</code>`]), 'packages') : empty('No imported packages were recorded.')}`;

  const cellsBlock = run.source.cells.length
    ? tableOf(
        ['Cell', 'Status', 'Time', 'sha256'],
        run.source.cells.map((c) => [html`${cellNumber(c.index)}${c.id ? html` <code>${c.id}</code>` : ''}`, html`<span class="status-${c.status}">${c.status}</span>`, text(c.durationMs === null ? '' : formatDuration(c.durationMs)), hashCell(c.sha256)]),
      )
    : null;

  const llm = run.llm;
  const llmBlock = llm
    ? html`<p>${llmLines(llm)[0]}</p>${llm.models.length
        ? tableOf(
            ['Model', 'Provider', 'Calls', 'Errors', 'Input tokens', 'Output tokens', 'Cost', 'p50', 'p95'],
            llm.models.map((m) => [
              html`<code>${m.model}</code>`,
              text(m.provider),
              html`<span class="num">${m.calls}</span>`,
              html`<span class="num">${m.errors + m.interrupted}</span>`,
              html`<span class="num">${m.inputTokens.toLocaleString('en-US')}</span>`,
              html`<span class="num">${m.outputTokens.toLocaleString('en-US')}</span>`,
              html`<span class="num">${formatCost(m.costUsd)}${m.costComplete ? '' : '+'}</span>`,
              text(m.latencyP50Ms === null ? '' : formatDuration(m.latencyP50Ms)),
              text(m.latencyP95Ms === null ? '' : formatDuration(m.latencyP95Ms)),
            ]),
            'llm-models',
          )
        : ''}${llm.prompts.length
        ? tableOf(
            ['Prompt version', 'Name', 'Calls', 'System texts', 'Templates'],
            llm.prompts.map((p) => [hashCell(p.sha256), text(p.name ?? ''), html`<span class="num">${p.calls}</span>`, text(p.texts.length), text(p.templates.map((t) => t.name).join(', '))]),
          )
        : ''}${(llm.notCaptured ?? []).map((n) => html`<div class="callout warn">Calls through ${n.package} ${n.version ?? ''} were not captured: ${n.reason}</div>`)}<p class="note">Costs from price table ${llm.prices.version} (prices as of ${llm.prices.asOf}). ${llm.contentCaptured ? 'Message contents were kept.' : 'Message contents were not kept: hashes and lengths only.'}</p>`
    : null;

  return html`${header}${errorBlock}
    ${sectionBlock('metrics', 'Metrics', metricsBlock, metrics.length)}
    ${llm ? sectionBlock('llm', 'LLM calls', llmBlock, llm.summary.calls) : ''}
    ${sectionBlock('params', 'Params', paramsBlock, params.length)}
    ${sectionBlock('seeds', 'Seeds', seedsBlock, run.seeds.length)}
    ${sectionBlock('inputs', 'Inputs', inputsBlock, run.inputs.length)}
    ${sectionBlock('outputs', 'Outputs', outputsBlock, run.outputs.length)}
    ${sectionBlock('artifacts', 'Artifacts', artifactsBlock, run.artifacts.length)}
    ${sectionBlock('environment', 'Environment', environmentBlock)}
    ${sectionBlock('cells', 'Cells', cellsBlock, run.source.cells.length)}`.html;
}

function changeRows<T>(changes: Array<Change<T>>, show: (v: T) => Raw): Raw[][] {
  return changes.map((c) => [
    html`<span class="change change-${c.kind}">${c.kind}</span>`,
    text(c.key),
    c.kind === 'added' ? raw('') : show(c.a),
    c.kind === 'removed' ? raw('') : show(c.b),
  ]);
}

function changeSection<T>(id: string, title: string, changes: Array<Change<T>>, show: (v: T) => Raw): Raw {
  return sectionBlock(id, title, changes.length ? tableOf(['', 'What', 'A', 'B'], changeRows(changes, show), 'diff') : empty('No differences.'), changes.length);
}

/** The body of the diff page for two runs. */
export function renderDiffHtml(diff: RunDiff): string {
  const code = (v: unknown): Raw => html`<code>${typeof v === 'string' ? v : JSON.stringify(v)}</code>`;
  const hash = (v: string): Raw => hashCell(v);
  const header = html`
    <header>
      <h1>Diff: ${diff.a.name} → ${diff.b.name}</h1>
      <dl class="facts">
        <dt>A</dt><dd><a href="#" data-run-id="${diff.a.id}">${diff.a.name}</a> <code>${diff.a.id}</code></dd>
        <dt>B</dt><dd><a href="#" data-run-id="${diff.b.id}">${diff.b.name}</a> <code>${diff.b.id}</code></dd>
        <dt>Code</dt><dd>${diff.sameCode ? 'identical' : `${diff.cells.length} code cell${diff.cells.length === 1 ? '' : 's'} differ`}${diff.sourcePath?.kind === 'changed' ? ` (source moved: ${diff.sourcePath.a} → ${diff.sourcePath.b})` : ''}</dd>
      </dl>
    </header>`;
  const metrics = sectionBlock(
    'metrics',
    'Metrics',
    diff.metrics.length
      ? tableOf(
          ['Metric', 'A', 'B', 'Δ', 'Δ %'],
          diff.metrics.map((m) => [text(m.name), html`<span class="num">${formatNumber(m.a)}</span>`, html`<span class="num">${formatNumber(m.b)}</span>`, html`<span class="num">${formatSigned(m.delta)}</span>`, text(formatPercent(m.relative))]),
          'metrics',
        )
      : empty('Neither run logged metrics.'),
    diff.metrics.length,
  );
  const cells = sectionBlock(
    'cells',
    'Code cells',
    diff.cells.length
      ? tableOf(['', 'Cell id', 'Cell in A', 'Cell in B'], diff.cells.map((c) => [html`<span class="change change-${c.kind}">${c.kind}</span>`, text(c.id ?? ''), text(c.indexA === null ? '' : cellNumber(c.indexA)), text(c.indexB === null ? '' : cellNumber(c.indexB))]), 'diff')
      : empty('No code cell differs.'),
    diff.cells.length,
  );
  return html`${header}${metrics}${cells}
    ${changeSection('params', 'Params', diff.params, code)}
    ${changeSection('seeds', 'Seeds', diff.seeds.map((c) => ({ ...c, key: locationKey(c.key) })), code)}
    ${changeSection('unseeded', 'Unseeded randomness', diff.unseeded.map((c) => ({ ...c, key: locationKey(c.key) })), code)}
    ${changeSection('inputs', 'Inputs (content hash)', diff.inputs, hash)}
    ${changeSection('outputs', 'Outputs (content hash)', diff.outputs, hash)}
    ${changeSection('packages', 'Packages', diff.packages, code)}
    ${changeSection('environment', 'Environment', diff.environment, code)}
    ${changeSection('git', 'Git', diff.git, code)}
    ${changeSection('hardware', 'Hardware', diff.hardware, code)}`.html;
}
