/**
 * What a notebook's cells showed, in a form two runs can be compared by: replay says "reproduced"
 * only when every cell shows the same thing again, not only when the metrics agree (a notebook
 * with an unseeded KMeans can log the same accuracy and draw different clusters).
 *
 * Per code cell (by its index in the user's notebook), the outputs of the executed notebook
 * become facets: the cell's stdout and stderr (all of each stream, joined: how the kernel split
 * them into messages does not matter), each rich output's MIME bundles in order, and an error's
 * name and value. Text is normalised so that what changes from run to run without the run being
 * different does not count: memory addresses (`at 0x7f…`), durations and progress-bar rates,
 * the kernel's pid in `/tmp/ipykernel_<pid>/` paths, UUIDs and pandas Styler ids, and date-times
 * or epoch times within a day of the run (the run's own "now"; dates in the data stay). Numbers
 * in otherwise equal text are equal within the replay's tolerance. Images are compared by a
 * sha256: of a PNG's critical chunks (its pixels and palette, not its text or time stamps), of an
 * SVG with its ids and dates removed, of other formats' bytes.
 */
import { createHash } from 'node:crypto';
import type { CellRecord } from '../envelope';
import { joinSource } from '../notebook/ipynb';
import { sha256Hex } from '../hash';

export interface Facet {
  /** `stdout`, `stderr`, `error`, or a MIME type. */
  kind: string;
  /** Normalised text, or `sha256:<hex>` of an image. */
  value: string;
  image: boolean;
}

/** A run's time window: date-times inside it (± a day) are its "now", not data. */
export interface RunWindow {
  startedAt: string;
  endedAt: string;
}

interface OutputJson {
  output_type?: unknown;
  name?: unknown;
  text?: unknown;
  data?: unknown;
  ename?: unknown;
  evalue?: unknown;
}

interface CellJson {
  cell_type?: unknown;
  source?: unknown;
  outputs?: unknown;
  metadata?: { tags?: unknown; nb2prod?: { index?: unknown; injected?: unknown } };
}

const DAY_MS = 24 * 3600 * 1000;
/** MIME types whose content is state of a live widget, not a result: not compared. */
const SKIPPED_MIME = /^application\/vnd\.jupyter\.widget-(?:view|state)\+json$/;

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string').join('');
  return '';
}

/** Lines as a terminal shows them: a carriage return starts the line over (progress bars). */
function afterCarriageReturns(value: string): string {
  return value
    .split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r') + 1))
    .join('\n');
}

// eslint-disable-next-line no-control-regex -- terminal escapes are what is removed
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07/g;
const DATE_TIME = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g;
const CTIME = /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}\b/g;
const EPOCH = /\b1\d{9}(?:\.\d+)?\b/g;

/** Text with what varies between identical runs replaced by placeholders (see the file comment). */
export function normaliseText(value: string, window: RunWindow): string {
  const from = Date.parse(window.startedAt) - DAY_MS;
  const to = Date.parse(window.endedAt) + DAY_MS;
  const isNow = (ms: number) => Number.isFinite(ms) && ms >= from && ms <= to;
  return afterCarriageReturns(value.replace(ANSI, ''))
    .replace(/\b0x[0-9a-fA-F]{6,16}\b/g, '0x…')
    .replace(/ipykernel_\d+/g, 'ipykernel_…')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\bT_[0-9a-f]{5}(?=[_"\s#.])/g, 'T_…')
    .replace(/\[\d{1,2}:\d{2}(?::\d{2})?<(?:\d{1,2}:\d{2}(?::\d{2})?|\?),\s*(?:[\d.]+|\?)\s?[A-Za-z]*\/[A-Za-z]+\]/g, '[<progress>]')
    .replace(/\b\d+(?:\.\d+)?\s?(?:it\/s|s\/it)\b/g, '<rate>')
    .replace(/\b\d+(?:\.\d+)?\s?(?:ns|µs|μs|us|ms|s|sec|secs|seconds?|min|mins|minutes?)\b/g, '<duration>')
    .replace(DATE_TIME, (match) => (isNow(Date.parse(match.replace(' ', 'T').replace(',', '.'))) ? '<now>' : match))
    .replace(CTIME, (match) => (isNow(Date.parse(match)) ? '<now>' : match))
    .replace(EPOCH, (match) => (isNow(Number(match) * 1000) ? '<now>' : match));
}

/** sha256 of a PNG's critical chunks (IHDR, PLTE, IDAT, IEND) and transparency; of the bytes when it is not a PNG. */
export function pngHash(bytes: Buffer): string {
  const hash = createHash('sha256');
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x89504e47) return sha256Hex(bytes);
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) return sha256Hex(bytes);
    // Upper-case first letter: critical. tRNS is ancillary but changes what is drawn.
    if (/^[A-Z]/.test(type) || type === 'tRNS') hash.update(bytes.subarray(offset + 4, offset + 8 + length));
    offset = end;
  }
  return hash.digest('hex');
}

function svgHash(svg: string): string {
  const normalised = svg
    .replace(/<dc:date>[^<]*<\/dc:date>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/\bid="[^"]*"/g, 'id=""')
    .replace(/url\(#[^)]*\)/g, 'url(#)')
    .replace(/href="#[^"]*"/g, 'href="#"');
  return sha256Hex(normalised);
}

function mimeFacet(mime: string, raw: unknown, window: RunWindow): Facet | null {
  if (SKIPPED_MIME.test(mime)) return null;
  if (mime === 'image/svg+xml') return { kind: mime, value: `sha256:${svgHash(text(raw))}`, image: true };
  if (mime.startsWith('image/')) {
    const bytes = Buffer.from(text(raw).replace(/\s+/g, ''), 'base64');
    return { kind: mime, value: `sha256:${mime === 'image/png' ? pngHash(bytes) : sha256Hex(bytes)}`, image: true };
  }
  const content = typeof raw === 'string' || Array.isArray(raw) ? text(raw) : JSON.stringify(raw);
  return { kind: mime, value: normaliseText(content, window), image: false };
}

function cellFacets(outputs: unknown, window: RunWindow): Facet[] {
  if (!Array.isArray(outputs)) return [];
  const streams: Record<string, string> = {};
  const rich: Facet[] = [];
  for (const output of outputs as OutputJson[]) {
    if (!output || typeof output !== 'object') continue;
    if (output.output_type === 'stream') {
      const name = output.name === 'stderr' ? 'stderr' : 'stdout';
      streams[name] = (streams[name] ?? '') + text(output.text);
    } else if (output.output_type === 'execute_result' || output.output_type === 'display_data') {
      const data = output.data && typeof output.data === 'object' ? (output.data as Record<string, unknown>) : {};
      for (const mime of Object.keys(data).sort()) {
        const facet = mimeFacet(mime, data[mime], window);
        if (facet) rich.push(facet);
      }
    } else if (output.output_type === 'error') {
      rich.push({ kind: 'error', value: normaliseText(`${text(output.ename)}: ${text(output.evalue)}`, window), image: false });
    }
  }
  const facets: Facet[] = [];
  for (const name of ['stdout', 'stderr']) if (streams[name]) facets.push({ kind: name, value: normaliseText(streams[name]!, window), image: false });
  return [...facets, ...rich];
}

/**
 * The facets of each code cell of an executed notebook, by the cell's index in the user's
 * notebook: from the runner's `metadata.nb2prod.index`, else (notebooks executed before it
 * recorded one) by matching sources to the run's cell records in order. The runner's injected
 * parameters cell is not one of the user's cells.
 */
export function notebookFacets(executed: unknown, cells: readonly CellRecord[], window: RunWindow): Map<number, Facet[]> {
  const out = new Map<number, Facet[]>();
  const list = (executed as { cells?: unknown } | null)?.cells;
  if (!Array.isArray(list)) return out;
  const code = (list as CellJson[]).filter((cell) => cell && cell.cell_type === 'code' && cell.metadata?.nb2prod?.injected !== true);
  let next = 0;
  for (const cell of code) {
    let index: number | undefined;
    const marked = cell.metadata?.nb2prod?.index;
    if (typeof marked === 'number') index = marked;
    else {
      const sha = sha256Hex(joinSource(typeof cell.source === 'string' || Array.isArray(cell.source) ? (cell.source as string | string[]) : ''));
      const at = cells.findIndex((record, i) => i >= next && record.sha256 === sha);
      if (at < 0) continue; // the injected cell of an older run, or a source we cannot place
      index = cells[at]!.index;
      next = at + 1;
    }
    out.set(index, cellFacets(cell.outputs, window));
  }
  return out;
}

const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g;

/** Equal texts, or texts that differ only in numbers within `tolerance`. */
export function sameText(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  if (a.replace(NUMBER, '#') !== b.replace(NUMBER, '#')) return false;
  const x = a.match(NUMBER) ?? [];
  const y = b.match(NUMBER) ?? [];
  return x.length === y.length && x.every((n, i) => Math.abs(Number(n) - Number(y[i])) <= tolerance);
}

export interface CellChange {
  index: number;
  /** What changed: `stdout`, `stderr`, `error`, a MIME type; `outputs` when outputs appeared or went. */
  kinds: string[];
  image: boolean;
  /** The first changed line of text, before and after (shortened), when the change is in text. */
  before?: string;
  after?: string;
}

function firstDifferentLine(a: string, b: string): [string, string] {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? '') !== (y[i] ?? '')) return [shorten(x[i] ?? ''), shorten(y[i] ?? '')];
  }
  return [shorten(a), shorten(b)];
}

function shorten(line: string): string {
  const trimmed = line.trim();
  return trimmed.length > 60 ? `${trimmed.slice(0, 59)}…` : trimmed;
}

/** The cells, present in both, whose outputs differ. */
export function changedCells(original: Map<number, Facet[]>, replay: Map<number, Facet[]>, tolerance: number): CellChange[] {
  const changes: CellChange[] = [];
  for (const [index, before] of [...original].sort((a, b) => a[0] - b[0])) {
    const after = replay.get(index);
    if (!after) continue; // not run on replay: the status difference says so
    const kinds = new Set<string>();
    let image = false;
    let texts: [string, string] | undefined;
    const byKind = (facets: Facet[]) => facets.map((f) => f.kind).join('|');
    if (byKind(before) !== byKind(after)) kinds.add('outputs');
    for (let i = 0; i < Math.min(before.length, after.length); i++) {
      const [x, y] = [before[i]!, after[i]!];
      if (x.kind !== y.kind) continue;
      if (x.image ? x.value !== y.value : !sameText(x.value, y.value, tolerance)) {
        kinds.add(x.kind);
        if (x.image) image = true;
        else texts ??= firstDifferentLine(x.value, y.value);
      }
    }
    if (kinds.size) changes.push({ index, kinds: [...kinds], image, ...(texts ? { before: texts[0], after: texts[1] } : {}) });
  }
  return changes;
}
