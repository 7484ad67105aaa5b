/**
 * What a statement of feature code does to a table, read from its text and facts: whether it
 * selects rows (a filter, `dropna`, a split: training only), changes columns (kept for serving
 * in `build_features`) or changes the target; which columns it reads and writes; and whether it
 * learns something from the training rows (a median, a category list, a fitted encoder), which a
 * service answering one record at a time cannot recompute.
 *
 * These are judgements on notebook code, so they lean towards refusing: a statement that might
 * learn from the rows is reported, with the fix, rather than served wrongly.
 */
import type { CellFacts, Span, TopStatement } from '../lint/python/analyze';

/** Methods that return some of the rows of a frame. */
const ROW_METHODS = new Set(['dropna', 'drop_duplicates', 'sample', 'head', 'tail', 'query', 'nlargest', 'nsmallest', 'sort_values', 'sort_index', 'reset_index', 'truncate']);
/** Reductions over rows: a value learned from the training rows (unless along axis=1). */
const AGGREGATES = new Set(['mean', 'median', 'mode', 'std', 'var', 'quantile', 'min', 'max', 'sum', 'nunique', 'value_counts', 'unique', 'idxmax', 'idxmin', 'describe', 'corr', 'cov', 'count', 'prod', 'sem', 'skew', 'kurt', 'agg', 'aggregate']);
const NUMPY_REDUCTIONS = new Set(['mean', 'median', 'std', 'var', 'percentile', 'quantile', 'nanmean', 'nanmedian', 'nanstd', 'nanpercentile', 'max', 'min', 'amax', 'amin', 'nanmax', 'nanmin', 'unique']);

export type FrameOp = 'rows' | 'columns' | 'target';

/** The text of a statement. */
export function statementText(facts: CellFacts, statement: { span: Span }): string {
  return facts.source.slice(statement.span.from, statement.span.to);
}

/** Splits `a, b` at the top level of brackets and quotes. */
export function topLevelParts(text: string, separator = ','): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** The bracketed text after `open` at `from` (`[...]`, `(...)`), without the brackets; null if unbalanced. */
export function bracketed(text: string, from: number): { inner: string; end: number } | null {
  const open = text[from];
  const close = open === '[' ? ']' : open === '(' ? ')' : open === '{' ? '}' : null;
  if (!close) return null;
  let depth = 0;
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) {
      depth--;
      if (depth === 0) return { inner: text.slice(from + 1, i), end: i + 1 };
    }
  }
  return null;
}

const MASK = /[<>]|==|!=|\.isin\(|\.isna\(|\.isnull\(|\.notna\(|\.notnull\(|\.between\(|\.str\.|~|&|\|/;

/** Whether `frame[inner]` selects rows (a boolean mask or a slice) rather than columns. */
export function subscriptSelectsRows(inner: string): boolean {
  const first = topLevelParts(inner)[0] ?? '';
  if (/^-?\d*\s*:\s*-?\d*$/.test(first)) return true; // df[:100]
  return MASK.test(inner);
}

function keywordValue(args: string, keyword: string): string | null {
  for (const part of topLevelParts(args)) {
    const match = new RegExp(`^${keyword}\\s*=\\s*([\\s\\S]+)$`).exec(part);
    if (match) return match[1]!.trim();
  }
  return null;
}

function positional(args: string): string[] {
  return topLevelParts(args).filter((p) => p && !/^[A-Za-z_]\w*\s*=(?!=)/.test(p) && !p.startsWith('*'));
}

/** Whether `drop(args)` drops rows: labels without axis=1 / columns=. */
export function dropDropsRows(args: string): boolean {
  const axis = keywordValue(args, 'axis');
  if (keywordValue(args, 'columns') !== null) return false;
  if (keywordValue(args, 'index') !== null) return true;
  if (axis !== null) return !/^(1|['"]columns['"])$/.test(axis);
  const pos = positional(args);
  if (pos.length >= 2) return !/^(1|['"]columns['"])$/.test(pos[1]!);
  return pos.length > 0;
}

/**
 * Whether an expression's outermost operation on a frame selects rows, from its text:
 * `df.dropna()`, `df[df.a > 0]`, `df.loc[mask]`, `df.iloc[:100]`, `df.sample(...)`.
 */
export function rowSelection(expression: string): boolean {
  const text = expression.trim();
  if (!text.endsWith(')') && !text.endsWith(']')) return false;
  const open = findCallOpen(text);
  if (open <= 0) return false;
  const before = text.slice(0, open).trimEnd();
  const inner = text.slice(open + 1, -1);
  if (text.endsWith(')')) {
    // the last method call of a chain decides: df[cols].dropna() selects rows
    const method = /\.([A-Za-z_]\w*)$/.exec(before)?.[1];
    if (!method) return false;
    if (method === 'dropna') return !/^(1|['"]columns['"])$/.test(keywordValue(inner, 'axis') ?? '0');
    if (method === 'drop') return dropDropsRows(inner);
    return ROW_METHODS.has(method);
  }
  if (before.endsWith('.iloc')) return !/^\s*:\s*,/.test(inner);
  if (before.endsWith('.loc')) return !/^\s*:\s*(,|$)/.test(inner);
  return subscriptSelectsRows(inner);
}

/** Offset of the `(` opening the last call of `text` (which ends with `)`). */
function findCallOpen(text: string): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = text.length - 1; i >= 0; i--) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote && text[i - 1] !== '\\') quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (')]}'.includes(ch)) depth++;
    else if ('([{'.includes(ch)) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * An in-place operation as a statement (`df.dropna(inplace=True)`, `df.drop(idx, inplace=True)`):
 * `rows` when it removes rows, `columns` when it changes columns.
 */
export function inplaceOp(statement: string): FrameOp {
  const method = /^[A-Za-z_][\w.]*?\.([A-Za-z_]\w*)\s*\(/.exec(statement.trim());
  if (!method) return 'columns';
  const name = method[1]!;
  const open = statement.indexOf('(', statement.indexOf(name));
  const args = bracketed(statement, open)?.inner ?? '';
  if (name === 'dropna') return /^(1|['"]columns['"])$/.test(keywordValue(args, 'axis') ?? '0') ? 'columns' : 'rows';
  if (name === 'drop') return dropDropsRows(args) ? 'rows' : 'columns';
  if (ROW_METHODS.has(name)) return 'rows';
  return 'columns';
}

/** String literals in a span of a cell. */
export function literalsIn(facts: CellFacts, span: Span): string[] {
  return facts.strings.filter((s) => s.span.from >= span.from && s.span.to <= span.to && !s.bytes).map((s) => s.value);
}

/**
 * Columns a statement writes on `frames`: `df["x"] = ...`, `df.x = ...`, `df.loc[..., "x"] = ...`,
 * the columns dropped or popped; `unknown` when it may change columns it does not name
 * (get_dummies, rename, a frame rebound by a function call).
 */
export function columnsWritten(text: string, frames: ReadonlySet<string>): { columns: Set<string>; unknown: boolean } {
  const columns = new Set<string>();
  let unknown = false;
  const names = [...frames].map(escape).join('|');
  if (!names) return { columns, unknown };
  for (const match of text.matchAll(new RegExp(`\\b(?:${names})\\s*\\[\\s*(['"])(.+?)\\1\\s*\\]\\s*=(?!=)`, 'g'))) columns.add(match[2]!);
  for (const match of text.matchAll(new RegExp(`\\b(?:${names})\\.loc\\[[^\\]]*,\\s*(['"])(.+?)\\1\\s*\\]\\s*=(?!=)`, 'g'))) columns.add(match[2]!);
  for (const match of text.matchAll(new RegExp(`\\b(?:${names})\\.([A-Za-z_]\\w*)\\s*=(?!=)`, 'g'))) columns.add(match[1]!);
  for (const match of text.matchAll(/\.(?:drop|pop)\s*\(/g)) {
    const args = bracketed(text, match.index + match[0].length - 1)?.inner ?? '';
    for (const literal of args.matchAll(/(['"])(.+?)\1/g)) columns.add(literal[2]!);
  }
  if (/\b(get_dummies|rename|pivot|melt|stack|unstack|merge|join|concat|assign|set_index)\b/.test(text)) unknown = true;
  // `df = f(df)`: what a function does to the columns is not read here
  if (new RegExp(`^\\s*(?:${names})\\s*=\\s*[A-Za-z_][\\w.]*\\(`).test(text) && !new RegExp(`^\\s*(?:${names})\\s*=\\s*(?:${names})\\.`).test(text)) unknown = true;
  return { columns, unknown };
}

/** Columns a row selection reads, and whether it looks at the whole frame (dropna() without subset). */
export function rowSelectionReads(text: string, frames: ReadonlySet<string>): { columns: Set<string>; whole: boolean } {
  const columns = new Set<string>();
  for (const literal of text.matchAll(/(['"])(.+?)\1/g)) columns.add(literal[2]!);
  const names = [...frames].map(escape).join('|');
  if (names) for (const match of text.matchAll(new RegExp(`\\b(?:${names})\\.([A-Za-z_]\\w*)\\b(?!\\s*\\()`, 'g'))) columns.add(match[1]!);
  const whole = /\.(dropna|drop_duplicates)\s*\(/.test(text) && !/subset\s*=/.test(text);
  return { columns, whole };
}

export interface Learned {
  /** The expression that learns from the rows. */
  text: string;
  /** Offset in the cell. */
  from: number;
  why: string;
  fix: string;
}

/**
 * Where feature code learns from the training rows: reductions over rows (`df.Age.median()`),
 * `pd.cut`/`pd.qcut` with computed bins, `get_dummies(drop_first=True)`, groupby statistics,
 * and fitted estimators (`le.fit_transform(df.Sex)`). `isEstimator` says whether a name holds one.
 */
export function learnedFromRows(facts: CellFacts, statement: { span: Span }, resolve: (offset: number, callee: string) => string | null, isEstimator: (name: string) => boolean): Learned | null {
  const inside = facts.calls.filter((c) => c.span.from >= statement.span.from && c.span.to <= statement.span.to);
  for (const call of inside) {
    const text = facts.source.slice(call.span.from, call.span.to);
    const args = facts.source.slice(call.argsSpan.from + 1, call.argsSpan.to - 1);
    const callee = call.callee;
    const path = resolve(call.span.from, text);
    if (callee.kind === 'attribute') {
      const method = callee.name;
      const objectText = facts.source.slice(callee.object.span.from, callee.object.span.to);
      if (['fit', 'fit_transform', 'transform', 'fit_predict', 'predict', 'predict_proba', 'inverse_transform'].includes(method)) {
        const base = /^([A-Za-z_]\w*)/.exec(objectText)?.[1];
        const estimator = callee.object.kind === 'call' ? !!resolve(callee.object.span.from, objectText)?.match(/^(sklearn|category_encoders|feature_engine|imblearn|xgboost|lightgbm|catboost)\./) : !!base && isEstimator(base);
        if (estimator) {
          return { text, from: call.span.from, why: `fits or applies \`${objectText}\` inside the feature code, on part of the table`, fix: `fit it on the feature matrix instead, before the model: a ColumnTransformer (an OrdinalEncoder, a OneHotEncoder, a scaler on the columns that need it) applied to the whole matrix, or a Pipeline ending with the model; nb2prod then saves it with the model` };
        }
      }
      if (path?.startsWith('numpy.') && NUMPY_REDUCTIONS.has(method) && !/\baxis\s*=\s*1\b/.test(args)) {
        return { text, from: call.span.from, why: 'is computed from the training rows', fix: learnedFix(method) };
      }
      if (method === 'groupby') {
        return { text, from: call.span.from, why: 'computes statistics of groups of training rows', fix: 'compute them once from the training data into a table the feature code reads (a lookup file shipped with the service), or fit them as an estimator before the model' };
      }
      if (AGGREGATES.has(method) && !path?.startsWith('numpy.') && !path?.startsWith('builtins.') && !/\baxis\s*=\s*(1|['"]columns['"])/.test(args) && !isStringMethod(objectText)) {
        return { text, from: call.span.from, why: 'is computed from the training rows', fix: learnedFix(method) };
      }
      if (method === 'get_dummies' && /\bdrop_first\s*=\s*True\b/.test(args)) {
        return { text, from: call.span.from, why: 'drops the first category of the rows it is given: for one record that is its own category', fix: 'drop `drop_first=True` (the model then sees every category), or use `OneHotEncoder(drop="first")` before the model so the categories are learned in training' };
      }
    }
    if ((path === 'pandas.cut' || path === 'pandas.qcut') && (path === 'pandas.qcut' || /^[^,]+,\s*(bins\s*=\s*)?\d+\s*(,|$)/.test(args))) {
      return { text, from: call.span.from, why: 'takes its bin edges from the training rows', fix: 'write the edges (`pd.cut(x, bins=[0, 18, 65, 120])`), or fit a `KBinsDiscretizer` before the model' };
    }
  }
  return null;
}

function isStringMethod(objectText: string): boolean {
  return /\.str$/.test(objectText);
}

function learnedFix(method: string): string {
  if (['mean', 'median', 'mode'].includes(method)) return `fit it instead: \`SimpleImputer(strategy="${method === 'mode' ? 'most_frequent' : method}")\` (or a scaler) before the model, in a Pipeline, so the value learned in training is saved with the model`;
  if (['min', 'max', 'std', 'var', 'quantile', 'percentile'].includes(method)) return 'fit it instead: a `StandardScaler`, `MinMaxScaler` or `KBinsDiscretizer` before the model (in a Pipeline), or write the value as a constant';
  return 'fit it instead as a step before the model (an encoder or a scaler in a Pipeline), or write the value as a constant';
}

/** Whether a statement is a plain assignment target of a frame column: `df["x"] = ...`. */
export function assignedColumn(text: string, frames: ReadonlySet<string>): string | null {
  const names = [...frames].map(escape).join('|');
  if (!names) return null;
  const match = new RegExp(`^\\s*(?:${names})\\s*(?:\\[\\s*(['"])(.+?)\\1\\s*\\]|\\.([A-Za-z_]\\w*))\\s*=(?!=)`).exec(text);
  return match ? (match[2] ?? match[3] ?? null) : null;
}

/** `df.x(...)` / `df["a"].fillna(..., inplace=True)`: the statement changes a frame in place. */
export function inplaceTarget(facts: CellFacts, statement: TopStatement): string | null {
  if (statement.kind !== 'expression' || statement.call === null) return null;
  const call = facts.calls[statement.call]!;
  const inplace = call.args.some((a) => a.keyword === 'inplace' && a.value.kind === 'constant' && a.value.value === 'True');
  if (!inplace || call.callee.kind !== 'attribute') return null;
  let object = call.callee.object;
  while (object.kind === 'attribute' || object.kind === 'subscript') object = object.object;
  return object.kind === 'name' ? object.name : null;
}

export function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
