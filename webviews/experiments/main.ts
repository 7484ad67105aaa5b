/**
 * The experiments table's page: every run (or every group of repeats) in one table that sorts,
 * filters (`accuracy > 0.8`, `max_depth=12`, free words), chooses and pins columns, and selects
 * rows to compare, diff or register — with plots beside it (parallel coordinates, a
 * param-vs-metric scatter, step curves, box plots per group).
 *
 * Virtualised for 10,000 runs and more: a fixed row height, a pool of row elements just larger
 * than the viewport, each row placed with a transform and refilled only when the row it shows
 * changes, so a scroll frame touches a dozen rows, not the table. The table paints first; the
 * plots (vega, through the interpreter: no eval under the CSP) are drawn after, when idle.
 * Sorting, filtering and grouping are core/experiments/query.ts, unit-tested.
 */
import { type ExperimentsMessage, type ExperimentsState, experimentsStateSchema, type ExperimentTable, type ExperimentsToPage, experimentsToPageSchema } from '../../src/protocol/experiments';
import type { ExperimentPlots } from '../experimentsPlots/main';
import { el } from '../shared/dom';
import { connectPage } from '../shared/host';
import { type CellValue, type Column, columnsOf, filterRows, formatDuration, formatNumber, type GroupRow, groupRows, parseFilter, sortRows } from './query';

const ROW_HEIGHT = 26;
const OVERSCAN = 8;
const CHECK_WIDTH = 30;
const PLOT_ROWS = 2_000;

const app = document.getElementById('app')!;
let table: ExperimentTable | undefined;
let columns: Column[] = [];
let problemsInStore = 0;

const vscode = connectPage<ExperimentsMessage, ExperimentsToPage, ExperimentsState>({
  toPage: experimentsToPageSchema,
  state: experimentsStateSchema,
  onMessage(message) {
    switch (message.type) {
      case 'table':
        table = message.table;
        problemsInStore = message.problems;
        columns = columnsOf(table);
        // Selected runs that are gone are no longer selected.
        for (const id of [...selected]) if (!table.ids.includes(id) && !id.startsWith('group:')) selected.delete(id);
        if (!built) build();
        refresh();
        markFirstPaint();
        break;
      case 'series':
        seriesCache.set(message.metric, new Map([...(seriesCache.get(message.metric) ?? new Map()), ...message.series.map((s) => [s.runId, s.points] as const)]));
        schedulePlots();
        break;
      case 'error':
        app.replaceChildren(el('div', { className: 'error', role: 'alert' }, message.message));
        built = false;
        break;
    }
  },
  onTheme: () => {
    schedulePlots(0);
  },
});
let state: ExperimentsState = vscode.savedState ?? {};
const selected = new Set<string>();
let lastClicked: number | null = null;
const seriesCache = new Map<string, Map<string, Array<[number, number]>>>();

function save(patch: Partial<ExperimentsState>): void {
  state = { ...state, ...patch };
  vscode.saveState(state);
}

// ---- the rows shown ------------------------------------------------------------------------

interface Shown {
  /** Runs mode: table rows. Groups mode: groups. */
  runs: number[];
  groups: GroupRow[] | null;
  count: number;
}
let shown: Shown = { runs: [], groups: null, count: 0 };
let filterProblems: string[] = [];

function mode(): 'runs' | 'groups' {
  return state.mode ?? 'runs';
}

function visibleColumns(): Column[] {
  const byId = new Map(columns.map((c) => [c.id, c]));
  const ids = state.columns?.filter((id) => byId.has(id)) ?? columns.filter((c) => c.byDefault).map((c) => c.id);
  const pinned = (state.pinned ?? []).filter((id) => ids.includes(id));
  const order = [...pinned, ...ids.filter((id) => !pinned.includes(id))];
  return order.map((id) => byId.get(id)!);
}

function groupValue(column: Column, group: GroupRow): CellValue {
  if (column.id.startsWith('metric:')) return group.metrics.get(column.id.slice('metric:'.length))?.mean ?? null;
  if (column.id === 'name') return group.label;
  if (column.id === 'started') return table!.startedAt[group.rows.at(-1)!]!;
  const values = group.rows.map((r) => column.value(r));
  if (column.numeric) {
    const numbers = values.filter((v): v is number => typeof v === 'number');
    return numbers.length ? numbers.reduce((a, b) => a + b, 0) / numbers.length : null;
  }
  const distinct = [...new Set(values.map((v) => (v === null ? '' : String(v))))];
  return distinct.length === 1 ? distinct[0]! : `${distinct.length} values`;
}

function groupText(column: Column, group: GroupRow): string {
  if (column.id.startsWith('metric:')) {
    const m = group.metrics.get(column.id.slice('metric:'.length));
    if (!m || m.mean === null) return '—';
    return m.low !== null && m.high !== null ? `${formatNumber(m.mean)} ± ${formatNumber((m.high - m.low) / 2)}` : formatNumber(m.mean);
  }
  if (column.id === 'name') return `${group.label} (${group.counted.length}${group.duplicates ? ` +${group.duplicates} dup` : ''})`;
  if (column.id === 'status') {
    const counts = new Map<string, number>();
    for (const r of group.rows) counts.set(table!.status[r]!, (counts.get(table!.status[r]!) ?? 0) + 1);
    return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  }
  if (column.id === 'seeds') return [...new Set(group.rows.map((r) => table!.seeds[r]))].filter(Boolean).join('; ');
  if (column.id === 'duration') {
    const v = groupValue(column, group);
    return typeof v === 'number' ? `${formatDuration(v * 1000)} (mean)` : '—';
  }
  if (column.id === 'started') return table!.startedAt[group.rows.at(-1)!]!.slice(0, 16).replace('T', ' ');
  const v = groupValue(column, group);
  return typeof v === 'number' ? formatNumber(v) : v === null ? '' : String(v);
}

function recompute(): void {
  if (!table) return;
  const parsed = parseFilter(state.filter ?? '', columns);
  filterProblems = parsed.problems;
  const rows = filterRows(table, parsed.terms);
  const sortColumn = state.sort ? columns.find((c) => c.id === state.sort!.column) : undefined;
  if (mode() === 'groups') {
    let groups = groupRows(table, rows);
    if (sortColumn) groups = sortRows(groups, (g) => groupValue(sortColumn, g), state.sort!.descending);
    shown = { runs: rows, groups, count: groups.length };
  } else {
    const ordered = sortColumn ? sortRows(rows, (r) => sortColumn.value(r), state.sort!.descending) : [...rows].reverse();
    shown = { runs: ordered, groups: null, count: ordered.length };
  }
}

/** Run ids behind the selection (groups: their counted runs). */
function selectedRunIds(): string[] {
  if (!table) return [];
  if (mode() === 'groups') {
    return (shown.groups ?? []).filter((g) => selected.has(`group:${g.key}`)).flatMap((g) => g.counted.map((r) => table!.ids[r]!));
  }
  return table.ids.filter((id) => selected.has(id));
}

// ---- layout --------------------------------------------------------------------------------

let built = false;
const toolbar = el('div', { className: 'toolbar', role: 'toolbar' });
const filterInput = el('input', { type: 'search', id: 'filter', placeholder: 'Filter: accuracy > 0.8, max_depth=12, status=failed, or any word', ariaLabel: 'Filter runs' });
const filterNote = el('span', { className: 'filter-note muted', id: 'filter-note', role: 'status' });
const countText = el('span', { className: 'count', id: 'count', role: 'status' });
const modeRuns = el('button', { className: 'toggle', id: 'mode-runs', title: 'One row per run' }, 'Runs');
const modeGroups = el('button', { className: 'toggle', id: 'mode-groups', title: 'One row per group of repeats (same code and params, seeds aside): mean ± half the 95% interval' }, 'Groups');
const columnsButton = el('button', { className: 'secondary', id: 'choose-columns', title: 'Choose and pin columns' }, 'Columns…');
const plotsButton = el('button', { className: 'toggle', id: 'toggle-plots', title: 'Plots beside the table' }, 'Plots');
const compareButton = el('button', { id: 'compare-selected', title: 'Compare the selected runs (or groups)' }, 'Compare');
const diffButton = el('button', { id: 'diff-selected', title: 'Diff the two selected runs' }, 'Diff');
const registerButton = el('button', { id: 'register-selected', title: 'Register a model version from the selected run' }, 'Register');
const openButton = el('button', { id: 'open-selected', title: 'Open the selected run' }, 'Open');
const columnsPopover = el('div', { className: 'popover', id: 'columns-popover', hidden: true, role: 'dialog', ariaLabel: 'Columns' });

const viewport = el('div', { className: 'viewport', id: 'viewport', tabIndex: 0, role: 'grid', ariaLabel: 'Runs' });
const grid = el('div', { className: 'grid' });
const header = el('div', { className: 'row header', role: 'row' });
const body = el('div', { className: 'body' });
const empty = el('p', { className: 'muted empty-note', hidden: true });
const plotsPane = el('aside', { className: 'plots', id: 'plots', ariaLabel: 'Plots' });

interface PooledRow {
  element: HTMLDivElement;
  cells: HTMLDivElement[];
  /** A drawn box, not an <input>: a native control per row costs a scroll frame more to paint. */
  check: HTMLSpanElement;
  shows: number;
}
let pool: PooledRow[] = [];
let poolColumns: Column[] = [];

function build(): void {
  built = true;
  filterInput.value = state.filter ?? '';
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  filterInput.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      save({ filter: filterInput.value });
      refresh();
    }, 120);
  });
  modeRuns.addEventListener('click', () => setMode('runs'));
  modeGroups.addEventListener('click', () => setMode('groups'));
  columnsButton.addEventListener('click', () => toggleColumnsPopover());
  plotsButton.addEventListener('click', () => {
    save({ showPlots: !(state.showPlots ?? true) });
    layoutPlots();
  });
  compareButton.addEventListener('click', () => {
    const ids = selectedRunIds();
    if (ids.length >= 2) vscode.post({ type: 'compare', runIds: ids.slice(0, 1000) });
  });
  diffButton.addEventListener('click', () => {
    const ids = selectedRunIds();
    if (ids.length === 2) vscode.post({ type: 'diff', runIds: [ids[0]!, ids[1]!] });
  });
  registerButton.addEventListener('click', () => {
    const ids = selectedRunIds();
    if (ids.length === 1) vscode.post({ type: 'register', runId: ids[0]! });
  });
  openButton.addEventListener('click', () => {
    const ids = selectedRunIds();
    if (ids.length === 1) vscode.post({ type: 'showRun', runId: ids[0]! });
  });
  toolbar.append(
    filterInput,
    el('span', { className: 'segmented' }, modeRuns, modeGroups),
    columnsButton,
    plotsButton,
    el('span', { className: 'spacer' }),
    countText,
    compareButton,
    diffButton,
    registerButton,
    openButton,
  );
  grid.append(header, body);
  viewport.append(grid);
  viewport.addEventListener('scroll', () => scheduleScroll(), { passive: true });
  viewport.addEventListener('keydown', onKey);
  body.addEventListener('mouseover', (event) => {
    const cell = (event.target as HTMLElement).closest<HTMLElement>('.cell');
    if (cell && !cell.classList.contains('check')) cellTitle(cell);
  });
  new ResizeObserver(() => renderRows(true)).observe(viewport);
  const main = el('div', { className: 'main' }, el('div', { className: 'table-pane' }, viewport, empty), plotsPane);
  app.replaceChildren(toolbar, filterNote, columnsPopover, main);
  app.classList.add('experiments');
  layoutPlots();
}

function setMode(next: 'runs' | 'groups'): void {
  if (mode() === next) return;
  selected.clear();
  lastClicked = null;
  save({ mode: next });
  refresh();
}

/** Filter, sort, rebuild the header and the rows. */
function refresh(): void {
  if (!table) return;
  recompute();
  modeRuns.setAttribute('aria-pressed', String(mode() === 'runs'));
  modeGroups.setAttribute('aria-pressed', String(mode() === 'groups'));
  plotsButton.setAttribute('aria-pressed', String(state.showPlots ?? true));
  const total = table.ids.length;
  const what = mode() === 'groups' ? `${shown.count} group${shown.count === 1 ? '' : 's'} of ${shown.runs.length} runs` : `${shown.count.toLocaleString('en')} of ${total.toLocaleString('en')} runs`;
  countText.textContent = `${what}${problemsInStore ? ` · ${problemsInStore} unreadable file${problemsInStore === 1 ? '' : 's'}` : ''}`;
  filterNote.textContent = filterProblems.length ? `Not understood: ${filterProblems.join('; ')}` : '';
  filterNote.hidden = !filterProblems.length;
  buildHeader();
  body.style.height = `${shown.count * ROW_HEIGHT}px`;
  empty.hidden = shown.count > 0;
  empty.textContent = total === 0 ? 'No tracked runs yet: track a notebook or script, and its runs appear here.' : 'No run matches the filter.';
  renderRows(true);
  updateActions();
  schedulePlots();
}

function columnWidth(column: Column): number {
  if (column.id === 'name') return 230;
  if (column.id === 'started') return 130;
  if (column.id === 'status') return 96;
  if (column.id === 'tags' || column.id === 'seeds') return 110;
  if (column.id.startsWith('metric:') || column.id.startsWith('best:')) return mode() === 'groups' ? 150 : 96;
  return Math.min(160, Math.max(72, column.label.length * 8 + 28));
}

function buildHeader(): void {
  const visible = visibleColumns();
  const widths = [CHECK_WIDTH, ...visible.map(columnWidth)];
  rowWidth = widths.reduce((a, b) => a + b, 0);
  grid.style.width = `${rowWidth}px`;
  const all = el('input', { type: 'checkbox', title: 'Select every row shown', ariaLabel: 'Select all' });
  const keys = shownKeys();
  all.checked = keys.length > 0 && keys.every((k) => selected.has(k));
  all.addEventListener('change', () => {
    for (const key of keys) {
      if (all.checked) selected.add(key);
      else selected.delete(key);
    }
    renderRows(true);
    updateActions();
    schedulePlots();
  });
  // Sticky cells are composited layers, one per row: the check column sticks only when columns are pinned.
  const anyPinned = visible.some((c) => (state.pinned ?? []).includes(c.id));
  const cells: HTMLElement[] = [sized(el('div', { className: `cell check${anyPinned ? ' pinned' : ''}` }, all), CHECK_WIDTH)];
  let left = CHECK_WIDTH;
  const pinned = new Set(state.pinned ?? []);
  for (const column of visible) {
    const sorted = state.sort?.column === column.id;
    const arrow = sorted ? (state.sort!.descending ? ' ▼' : ' ▲') : '';
    const cell = el('div', { className: `cell head${column.numeric ? ' num' : ''}${pinned.has(column.id) ? ' pinned' : ''}`, role: 'columnheader', title: `${column.id.startsWith('param:') ? `param ${column.id.slice(6)}` : column.id}: click to sort` }, `${column.label}${arrow}`);
    sized(cell, columnWidth(column));
    cell.dataset.column = column.id;
    cell.setAttribute('aria-sort', sorted ? (state.sort!.descending ? 'descending' : 'ascending') : 'none');
    if (pinned.has(column.id)) cell.style.left = `${left}px`;
    left += columnWidth(column);
    cell.addEventListener('click', () => {
      const descending = state.sort?.column === column.id ? !state.sort.descending : column.descendingFirst;
      save({ sort: { column: column.id, descending } });
      refresh();
    });
    cells.push(cell);
  }
  header.replaceChildren(...cells);
  // Rows are rebuilt for the new columns.
  poolColumns = [];
}

/**
 * A cell of a fixed width (through the CSSOM: the CSP allows it, unlike style attributes). With
 * `contain: strict`, refilling its text lays out that cell alone, not its row or the table.
 */
function sized<T extends HTMLElement>(cell: T, width: number): T {
  cell.style.width = `${width}px`;
  return cell;
}

function shownKeys(): string[] {
  if (!table) return [];
  return mode() === 'groups' ? (shown.groups ?? []).map((g) => `group:${g.key}`) : shown.runs.map((r) => table!.ids[r]!);
}

function keyAt(index: number): string {
  return mode() === 'groups' ? `group:${shown.groups![index]!.key}` : table!.ids[shown.runs[index]!]!;
}

/** The width of a row: the sum of the visible columns' (set on each row so it can be `contain: strict`). */
let rowWidth = 0;

function makeRow(visible: Column[]): PooledRow {
  const element = sized(el('div', { className: 'row', role: 'row' }), rowWidth) as HTMLDivElement;
  const check = el('span', { className: 'box', role: 'checkbox', ariaLabel: 'Select' });
  check.setAttribute('aria-checked', 'false');
  const pinned = new Set(state.pinned ?? []);
  const checkCell = sized(el('div', { className: `cell check${visible.some((c) => pinned.has(c.id)) ? ' pinned' : ''}` }, check), CHECK_WIDTH) as HTMLDivElement;
  const cells: HTMLDivElement[] = [];
  let left = CHECK_WIDTH;
  for (const column of visible) {
    const cell = sized(el('div', { className: `cell${column.numeric ? ' num' : ''}${pinned.has(column.id) ? ' pinned' : ''}${column.id === 'name' ? ' name' : ''}`, role: 'gridcell' }), columnWidth(column)) as HTMLDivElement;
    if (pinned.has(column.id)) cell.style.left = `${left}px`;
    left += columnWidth(column);
    cells.push(cell);
  }
  element.append(checkCell, ...cells);
  const row: PooledRow = { element, cells, check, shows: -1 };
  element.addEventListener('click', (event) => onRowClick(row.shows, event));
  element.addEventListener('dblclick', () => {
    if (mode() === 'runs' && row.shows >= 0) vscode.post({ type: 'showRun', runId: table!.ids[shown.runs[row.shows]!]! });
  });
  return row;
}

let scrollFrame = 0;
function scheduleScroll(): void {
  if (scrollFrame) return;
  scrollFrame = requestAnimationFrame(() => {
    scrollFrame = 0;
    const started = performance.now();
    renderRows(false);
    // A user-timing measure: visible in the profiler, read by the bench (npm run bench).
    performance.measure('nb2prod-rows', { start: started });
  });
}

/** Places and fills the pooled rows for the current scroll position; `all` refills every row. */
function renderRows(all: boolean): void {
  if (!table) return;
  const visible = visibleColumns();
  const needed = Math.ceil((viewport.clientHeight || 600) / ROW_HEIGHT) + 2 * OVERSCAN;
  if (poolColumns !== visible && (poolColumns.length !== visible.length || poolColumns.some((c, i) => c !== visible[i]))) {
    pool = [];
    body.replaceChildren();
    poolColumns = visible;
  }
  while (pool.length < needed) {
    const row = makeRow(visible);
    pool.push(row);
    body.append(row.element);
  }
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const size = pool.length;
  for (let index = first; index < first + size; index++) {
    const row = pool[index % size]!;
    if (index >= shown.count) {
      if (row.shows !== -1 || all) {
        row.element.hidden = true;
        row.shows = -1;
      }
      continue;
    }
    if (row.shows === index && !all) continue;
    row.shows = index;
    row.element.hidden = false;
    row.element.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    fillRow(row, index, visible);
  }
}

function fillRow(row: PooledRow, index: number, visible: Column[]): void {
  const key = keyAt(index);
  const isSelected = selected.has(key);
  row.check.setAttribute('aria-checked', String(isSelected));
  row.element.classList.toggle('selected', isSelected);
  row.element.setAttribute('aria-selected', String(isSelected));
  if (mode() === 'groups') {
    const group = shown.groups![index]!;
    visible.forEach((column, i) => {
      const cell = row.cells[i]!;
      cell.textContent = groupText(column, group);
      if (cell.title) cell.title = '';
    });
    row.element.dataset.key = key;
    return;
  }
  const r = shown.runs[index]!;
  row.element.dataset.key = key;
  row.element.classList.toggle('duplicate', !!table!.duplicateOf[r]);
  row.element.dataset.status = table!.status[r]!;
  visible.forEach((column, i) => {
    const cell = row.cells[i]!;
    cell.textContent = column.text(r);
    // A tooltip set on hover belonged to the row the cell showed before.
    if (cell.title) cell.title = '';
  });
}

/**
 * A cell's tooltip (full value, the data files, a duplicate's original, a group's interval),
 * computed when the pointer is over it rather than written into every cell on every scroll frame.
 */
function cellTitle(cell: HTMLElement): void {
  const rowElement = cell.closest<HTMLElement>('.body .row');
  const row = pool.find((p) => p.element === rowElement);
  const index = row ? row.cells.indexOf(cell as HTMLDivElement) : -1;
  if (!row || index < 0 || row.shows < 0) return;
  const column = poolColumns[index];
  if (!column) return;
  let title: string;
  if (mode() === 'groups') title = column.id.startsWith('metric:') ? metricTitle(column, shown.groups![row.shows]!) : (cell.textContent ?? '');
  else {
    const r = shown.runs[row.shows]!;
    title = [cell.textContent ?? '', column.title?.(r) ?? ''].filter(Boolean).join('\n');
  }
  cell.title = title;
}

function metricTitle(column: Column, group: GroupRow): string {
  const m = group.metrics.get(column.id.slice('metric:'.length));
  if (!m || m.mean === null) return '';
  return m.low !== null ? `mean ${formatNumber(m.mean)}, 95% interval [${formatNumber(m.low)}, ${formatNumber(m.high)}] over ${m.n} runs` : `${m.n} run: no interval`;
}

function onRowClick(index: number, event: MouseEvent): void {
  if (index < 0) return;
  const key = keyAt(index);
  const toggle = event.ctrlKey || event.metaKey || (event.target as HTMLElement).matches('.box');
  if (event.shiftKey && lastClicked !== null) {
    const [a, b] = lastClicked < index ? [lastClicked, index] : [index, lastClicked];
    for (let i = a; i <= b; i++) selected.add(keyAt(i));
  } else if (toggle) {
    if (selected.has(key)) selected.delete(key);
    else selected.add(key);
  } else {
    selected.clear();
    selected.add(key);
  }
  lastClicked = index;
  renderRows(true);
  updateActions();
  schedulePlots();
}

function onKey(event: KeyboardEvent): void {
  if (!shown.count) return;
  const current = lastClicked ?? -1;
  let next = current;
  if (event.key === 'ArrowDown') next = Math.min(shown.count - 1, current + 1);
  else if (event.key === 'ArrowUp') next = Math.max(0, current - 1);
  else if (event.key === 'Enter' && mode() === 'runs' && current >= 0) {
    vscode.post({ type: 'showRun', runId: table!.ids[shown.runs[current]!]! });
    return;
  } else if (event.key === ' ' && current >= 0) {
    event.preventDefault();
    const key = keyAt(current);
    if (selected.has(key)) selected.delete(key);
    else selected.add(key);
    renderRows(true);
    updateActions();
    return;
  } else return;
  event.preventDefault();
  if (!event.shiftKey) selected.clear();
  selected.add(keyAt(next));
  lastClicked = next;
  const top = next * ROW_HEIGHT;
  if (top < viewport.scrollTop + ROW_HEIGHT) viewport.scrollTop = Math.max(0, top - ROW_HEIGHT);
  else if (top > viewport.scrollTop + viewport.clientHeight - 2 * ROW_HEIGHT) viewport.scrollTop = top - viewport.clientHeight + 2 * ROW_HEIGHT;
  renderRows(true);
  updateActions();
  schedulePlots();
}

function updateActions(): void {
  const ids = selectedRunIds();
  const groups = mode() === 'groups';
  compareButton.disabled = ids.length < 2;
  compareButton.textContent = ids.length >= 2 ? `Compare ${groups ? `${selected.size} groups` : `${ids.length} runs`}` : 'Compare';
  diffButton.disabled = groups || ids.length !== 2;
  registerButton.disabled = groups || ids.length !== 1;
  openButton.disabled = groups || ids.length !== 1;
}

// ---- choosing and pinning columns ----------------------------------------------------------

function toggleColumnsPopover(): void {
  if (!columnsPopover.hidden) {
    columnsPopover.hidden = true;
    return;
  }
  const search = el('input', { type: 'search', placeholder: 'Find a column', ariaLabel: 'Find a column' });
  const list = el('ul', { className: 'column-list' });
  const fill = () => {
    const visible = new Set(visibleColumns().map((c) => c.id));
    const pinned = new Set(state.pinned ?? []);
    const q = search.value.toLowerCase();
    list.replaceChildren();
    for (const column of columns) {
      if (q && !`${column.label} ${column.id}`.toLowerCase().includes(q)) continue;
      const box = el('input', { type: 'checkbox', checked: visible.has(column.id), id: `col-${column.id}` });
      box.dataset.column = column.id;
      box.addEventListener('change', () => {
        const ids = visibleColumns().map((c) => c.id);
        save({ columns: box.checked ? [...ids, column.id] : ids.filter((id) => id !== column.id) });
        refresh();
        fill();
      });
      const pin = el('button', { className: `pin${pinned.has(column.id) ? ' on' : ''}`, title: pinned.has(column.id) ? 'Unpin' : 'Pin to the left', ariaLabel: `Pin ${column.label}` }, pinned.has(column.id) ? 'unpin' : 'pin');
      pin.dataset.column = column.id;
      pin.addEventListener('click', () => {
        const now = new Set(state.pinned ?? []);
        if (now.has(column.id)) now.delete(column.id);
        else now.add(column.id);
        const ids = visibleColumns().map((c) => c.id);
        save({ pinned: [...now], columns: ids.includes(column.id) ? ids : [...ids, column.id] });
        refresh();
        fill();
      });
      const label = el('label', { htmlFor: `col-${column.id}` }, column.label);
      if (column.label !== column.id.replace(/^(param|metric):/, '')) label.title = column.id;
      list.append(el('li', {}, box, label, pin));
    }
  };
  search.addEventListener('input', fill);
  const reset = el('button', { className: 'secondary' }, 'Defaults');
  reset.addEventListener('click', () => {
    save({ columns: undefined, pinned: [] });
    refresh();
    fill();
  });
  const close = el('button', {}, 'Done');
  close.addEventListener('click', () => (columnsPopover.hidden = true));
  fill();
  columnsPopover.replaceChildren(el('div', { className: 'popover-head' }, search, reset, close), list);
  columnsPopover.hidden = false;
  search.focus();
}

// ---- plots ---------------------------------------------------------------------------------
// Drawn by a second bundle (webviews/experimentsPlots, with vega), loaded after the table's
// first paint: the table does not wait for a megabyte of charting code.

let plotTimer: ReturnType<typeof setTimeout> | undefined;
let plotsModule: Promise<ExperimentPlots> | undefined;
const thisScript = document.currentScript as HTMLScriptElement | null;

function loadPlots(): Promise<ExperimentPlots> {
  plotsModule ??= new Promise<ExperimentPlots>((resolve, reject) => {
    const loaded = (window as { nb2prodExperimentPlots?: ExperimentPlots }).nb2prodExperimentPlots;
    if (loaded) return resolve(loaded);
    const script = document.createElement('script');
    // The CSP allows scripts carrying this page's nonce; the bundle sits beside this one.
    script.nonce = thisScript?.nonce ?? '';
    script.src = (thisScript?.src ?? 'experiments.js').replace(/experiments\.js(?=$|[?#])/, 'experimentsPlots.js');
    script.addEventListener('load', () => {
      const module = (window as { nb2prodExperimentPlots?: ExperimentPlots }).nb2prodExperimentPlots;
      if (module) resolve(module);
      else reject(new Error('the plots did not load'));
    });
    script.addEventListener('error', () => reject(new Error('the plots could not be loaded')));
    document.body.append(script);
  });
  return plotsModule;
}

function layoutPlots(): void {
  const show = state.showPlots ?? true;
  plotsPane.hidden = !show;
  plotsButton.setAttribute('aria-pressed', String(show));
  if (show) schedulePlots(0);
  renderRows(true);
}

/** Plots wait until the table is painted and the user paused (filtering as they type). */
function schedulePlots(delay = 250): void {
  clearTimeout(plotTimer);
  if (!(state.showPlots ?? true) || !table) return;
  plotTimer = setTimeout(() => {
    const idle = (window as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => void }).requestIdleCallback;
    const draw = () =>
      void loadPlots().then(
        (plots) => drawPlots(plots),
        (error: Error) => plotsPane.replaceChildren(el('p', { className: 'error' }, `The plots could not be drawn: ${error.message}`)),
      );
    if (idle) idle(draw, { timeout: 500 });
    else draw();
  }, delay);
}

function drawPlots(plots: ExperimentPlots): void {
  if (!table || plotsPane.hidden) return;
  const ids = new Set(selectedRunIds());
  const selection = ids.size > 0;
  const rows = selection ? shown.runs.filter((r) => ids.has(table!.ids[r]!)) : shown.runs.slice(0, PLOT_ROWS);
  const scope = selection
    ? `the ${rows.length} selected run${rows.length === 1 ? '' : 's'}`
    : shown.runs.length > PLOT_ROWS
      ? `the first ${PLOT_ROWS} of ${shown.runs.length} rows, in table order`
      : `the ${rows.length} runs shown`;
  const sortedMetric = state.sort?.column.startsWith('metric:') ? state.sort.column.slice('metric:'.length) : null;
  plots.render({
    pane: plotsPane,
    table,
    rows,
    scope,
    selection,
    kind: state.plot ?? 'parallel',
    metric: state.plotMetric ?? sortedMetric,
    param: state.plotParam ?? null,
    series: (metric) => seriesCache.get(metric),
    requestSeries: (runIds, metric) => vscode.post({ type: 'series', runIds, metric }),
    choose: (patch) => {
      save(patch);
      schedulePlots(0);
    },
  });
}

// ---- for the bench and the e2e tests -------------------------------------------------------

let painted = false;
function markFirstPaint(): void {
  if (painted) return;
  painted = true;
  requestAnimationFrame(() => {
    document.body.dataset.firstPaint = String(performance.now());
  });
}
