/**
 * The value of a Python string literal token, as Python would build it: prefixes (r, b, u, f),
 * single or triple quotes, and backslash escapes. Format strings keep their literal text with
 * each replacement field written as `{}`.
 */

export interface StringValue {
  value: string;
  bytes: boolean;
  formatted: boolean;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '',
};

export function stringTokenValue(token: string): StringValue {
  let prefixEnd = 0;
  while (prefixEnd < token.length && /[a-zA-Z]/.test(token[prefixEnd]!)) prefixEnd++;
  const prefix = token.slice(0, prefixEnd).toLowerCase();
  const raw = prefix.includes('r');
  const bytes = prefix.includes('b');
  const formatted = prefix.includes('f');
  let body = token.slice(prefixEnd);
  const quote = body.startsWith('"""') || body.startsWith("'''") ? body.slice(0, 3) : body.slice(0, 1);
  body = body.slice(quote.length, body.endsWith(quote) && body.length >= 2 * quote.length ? body.length - quote.length : body.length);
  if (formatted) body = collapseReplacementFields(body);
  return { value: raw ? body : unescape(body, bytes), bytes, formatted };
}

function unescape(body: string, bytes: boolean): string {
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\' || i === body.length - 1) {
      out += ch;
      continue;
    }
    const next = body[i + 1]!;
    if (next in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[next];
      i++;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(body.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (!bytes && next === 'u' && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(body.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (/[0-7]/.test(next)) {
      const digits = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
      out += String.fromCharCode(parseInt(digits, 8));
      i += digits.length;
    } else {
      // Python keeps unknown escapes such as `\d` or `\U` (in paths: `C:\Users`) as written.
      out += ch;
    }
  }
  return out;
}

/** `{x!r:>{w}}` → `{}`; `{{` and `}}` are literal braces. */
function collapseReplacementFields(body: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (depth === 0 && (ch === '{' || ch === '}') && body[i + 1] === ch) {
      out += ch;
      i++;
    } else if (ch === '{') {
      if (depth === 0) out += '{}';
      depth++;
    } else if (ch === '}' && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}
