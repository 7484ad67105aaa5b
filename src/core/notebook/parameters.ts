/**
 * A notebook's `parameters` cell (papermill's convention, which the runner follows) as values,
 * and the overrides a person types for *Track Run with Parameters…* (`max_depth=12, seed=2`).
 *
 * The cell is read as the runner reads it: simple `name = <literal>` assignments (annotated ones
 * too), the rest ignored. Literals are Python's — numbers, strings, True/False/None, lists,
 * tuples and dicts of them — parsed here rather than by running Python, so the prompt is
 * prefilled at once. Typed overrides take Python literals or JSON; anything else is text, as
 * `nb2prod track -p name=value` does.
 */
import type { JsonValue } from '../envelope';
import type { NotebookCell } from './ipynb';

export interface NotebookParameter {
  name: string;
  /** As written in the cell (`0.25`, `"gini"`). */
  source: string;
  value: JsonValue;
}

/** The assignments of the first code cell tagged `parameters`; null when there is no such cell. */
export function parametersOf(cells: readonly NotebookCell[]): NotebookParameter[] | null {
  const cell = cells.find((c) => c.kind === 'code' && c.tags.includes('parameters'));
  if (!cell) return null;
  const out: NotebookParameter[] = [];
  for (const line of cell.source.split(/\r?\n/)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]+)?=(?!=)\s*(.+?)\s*$/.exec(line);
    if (!match) continue;
    const [, name, rest] = match as unknown as [string, string, string];
    const parsed = parseLiteral(rest);
    if (parsed === undefined) continue;
    out.push({ name, source: parsed.source, value: parsed.value });
  }
  return out;
}

/** `name=value, …` of the cell's parameters, for the prompt. */
export function parametersText(parameters: readonly NotebookParameter[]): string {
  return parameters.map((p) => `${p.name}=${p.source}`).join(', ');
}

export interface ParsedOverrides {
  params: Record<string, JsonValue>;
  /** What could not be read, in words; empty when the text is fine. */
  problems: string[];
}

/** Reads `max_depth=12, seed=2, criterion="entropy"` (commas or spaces between pairs). */
export function parseOverrides(text: string): ParsedOverrides {
  const params: Record<string, JsonValue> = {};
  const problems: string[] = [];
  for (const part of splitTopLevel(text)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/s.exec(part);
    if (!match) {
      problems.push(`"${part.trim()}" is not name=value`);
      continue;
    }
    const [, name, raw] = match as unknown as [string, string, string];
    if (raw === '') {
      problems.push(`${name} has no value`);
      continue;
    }
    params[name] = overrideValue(raw);
  }
  return { params, problems };
}

/** The overrides that change something: equal to the cell's value, a param is left to the cell. */
export function changedOverrides(params: Record<string, JsonValue>, defaults: readonly NotebookParameter[] | null): Record<string, JsonValue> {
  const byName = new Map((defaults ?? []).map((p) => [p.name, p.value]));
  return Object.fromEntries(Object.entries(params).filter(([name, value]) => !byName.has(name) || JSON.stringify(byName.get(name)) !== JSON.stringify(value)));
}

/** A typed value: a Python literal, else JSON, else the text itself. */
export function overrideValue(raw: string): JsonValue {
  const literal = parseLiteral(raw);
  if (literal !== undefined) return literal.value;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    return raw;
  }
}

/** Splits at commas and spaces that separate pairs, not inside brackets or quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      current += ch;
      if (ch === '\\') current += text[++i] ?? '';
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    // A comma ends a pair; so does a space before the next `name=` at the top level.
    if (depth === 0 && (ch === ',' || (/\s/.test(ch) && /^\s*[A-Za-z_][A-Za-z0-9_]*\s*=/.test(text.slice(i)) && /=\s*\S/.test(current)))) {
      if (current.trim()) parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts;
}

// ---- Python literals --------------------------------------------------------------------------

/** The literal at the start of `text` (a trailing comment allowed); undefined when it is not one. */
export function parseLiteral(text: string): { value: JsonValue; source: string } | undefined {
  const parser = new LiteralParser(text);
  try {
    const value = parser.value();
    parser.skipSpace();
    const end = parser.at;
    if (!parser.done() && !parser.rest().startsWith('#')) return undefined;
    return { value, source: text.slice(0, end).trim() };
  } catch {
    return undefined;
  }
}

class LiteralParser {
  at = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at >= this.text.length;
  }

  rest(): string {
    return this.text.slice(this.at);
  }

  skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  value(): JsonValue {
    this.skipSpace();
    const ch = this.text[this.at];
    if (ch === '[' || ch === '(') return this.sequence(ch === '[' ? ']' : ')');
    if (ch === '{') return this.dict();
    if (ch === '"' || ch === "'") return this.string();
    if (/[rRuUbB]/.test(ch ?? '') && /^[rRuUbB]{1,2}['"]/.test(this.rest())) {
      const raw = /^[rR]/.test(this.rest()) || /^[uUbB][rR]/.test(this.rest());
      while (/[rRuUbB]/.test(this.text[this.at]!)) this.at++;
      return this.string(raw);
    }
    const word = /^(True|False|None)\b/.exec(this.rest());
    if (word) {
      this.at += word[0].length;
      return word[1] === 'True' ? true : word[1] === 'False' ? false : null;
    }
    const number = /^[+-]?(?:\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)/.exec(this.rest());
    if (number && number[0] !== '+' && number[0] !== '-') {
      this.at += number[0].length;
      const parsed = Number(number[0].replace(/_/g, ''));
      if (!Number.isFinite(parsed)) throw new Error('not a finite number');
      return parsed;
    }
    throw new Error(`not a literal at ${this.at}`);
  }

  private sequence(close: string): JsonValue[] {
    this.at++;
    const items: JsonValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === close) {
        this.at++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== close) throw new Error('expected , or the end of the list');
    }
  }

  private dict(): { [key: string]: JsonValue } {
    this.at++;
    const out: { [key: string]: JsonValue } = {};
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === '}') {
        this.at++;
        return out;
      }
      const key = this.value();
      this.skipSpace();
      if (this.text[this.at] !== ':') throw new Error('expected :');
      this.at++;
      out[typeof key === 'string' ? key : JSON.stringify(key)] = this.value();
      this.skipSpace();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== '}') throw new Error('expected , or }');
    }
  }

  private string(raw = false): string {
    const quote = this.text[this.at]!;
    const triple = this.text.startsWith(quote.repeat(3), this.at);
    const end = triple ? quote.repeat(3) : quote;
    this.at += end.length;
    let out = '';
    for (;;) {
      if (this.at >= this.text.length) throw new Error('unterminated string');
      if (this.text.startsWith(end, this.at)) {
        this.at += end.length;
        return out;
      }
      const ch = this.text[this.at++]!;
      if (ch === '\\' && !raw) {
        const next = this.text[this.at++] ?? '';
        out += ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' } as Record<string, string>)[next] ?? `\\${next}`;
      } else out += ch;
    }
  }
}
