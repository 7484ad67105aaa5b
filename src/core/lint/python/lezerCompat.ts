/**
 * Where @lezer/python's tokenizer rejects code CPython accepts, the code is adjusted before it
 * is parsed — character for character, so every offset stays a cell offset — rather than by
 * patching or copying the grammar.
 *
 * Today that is one token: a float literal ending in a dot (`y = 2.`, `[0., 1.5]`, `1_000.`,
 * `1.e-3`, `2.j`), which Lezer's Number token does not accept, so it reports a syntax error
 * (sometimes on the next line, after error recovery) and mis-reads the rest of the statement.
 * The dot becomes a `0` (`2.` → `20`): still one number token of the same length. The facts
 * read number texts from the unadjusted code, so no rule ever sees the `0`.
 *
 * Strings, comments and the literal parts of f-strings are left alone; the expressions inside
 * an f-string's replacement fields are code and are adjusted too.
 */

/** A digit, then a dot not followed by another digit: the only shape this module changes. */
const MAYBE_TRAILING_DOT = /\d\.(?!\d)/;

export function adjustForLezer(code: string): string {
  if (!MAYBE_TRAILING_DOT.test(code)) return code;
  const dots = new Scanner(code).run();
  if (!dots.length) return code;
  let out = '';
  let last = 0;
  for (const at of dots) {
    out += code.slice(last, at) + '0';
    last = at + 1;
  }
  return out + code.slice(last);
}

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'f', 'br', 'rb', 'fr', 'rf']);

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
}

class Scanner {
  /** Offsets of dots to turn into `0`. */
  private readonly dots: number[] = [];
  private i = 0;

  constructor(private readonly code: string) {}

  run(): number[] {
    this.scanCode(false);
    return this.dots;
  }

  /**
   * Code until the end, or (in an f-string replacement field) until the `}`, `:` or `!` that
   * ends the expression at bracket depth 0. Leaves `i` on that character.
   */
  private scanCode(inField: boolean): void {
    const code = this.code;
    let depth = 0;
    while (this.i < code.length) {
      const ch = code[this.i]!;
      if (inField && depth === 0 && (ch === '}' || ch === ':' || (ch === '!' && code[this.i + 1] !== '='))) return;
      if (ch === '#') {
        const newline = code.indexOf('\n', this.i);
        if (inField || newline === -1) {
          // A comment cannot end a replacement field: the string is broken anyway.
          this.i = newline === -1 ? code.length : newline;
          if (inField) return;
        } else this.i = newline;
      } else if (ch === '"' || ch === "'") {
        this.scanString('');
      } else if (isWordChar(ch) && !isDigit(ch)) {
        const start = this.i;
        while (isWordChar(code[this.i])) this.i++;
        const word = code.slice(start, this.i);
        if ((code[this.i] === '"' || code[this.i] === "'") && STRING_PREFIXES.has(word.toLowerCase())) this.scanString(word.toLowerCase());
      } else if (isDigit(ch)) {
        this.scanNumber();
      } else if (ch === '.' && isDigit(code[this.i + 1])) {
        // `.5`: a number that starts with its dot never ends with one.
        this.i++;
        this.scanDigitsAndExponent();
      } else {
        if (ch === '(' || ch === '[' || ch === '{') depth++;
        else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
        else if (inField && ch === '\n' && depth === 0 && !this.inTripleQuote) return;
        this.i++;
      }
    }
  }

  /** Set while inside a triple-quoted f-string, where a replacement field may span lines. */
  private inTripleQuote = false;

  /** A string literal starting at `i` (on its quote); `prefix` is lower case. */
  private scanString(prefix: string): void {
    const code = this.code;
    const quoteChar = code[this.i]!;
    const triple = code.startsWith(quoteChar.repeat(3), this.i);
    const quote = triple ? quoteChar.repeat(3) : quoteChar;
    const formatted = prefix.includes('f');
    this.i += quote.length;
    while (this.i < code.length) {
      const ch = code[this.i]!;
      if (ch === '\\') {
        this.i += 2;
      } else if (code.startsWith(quote, this.i)) {
        this.i += quote.length;
        return;
      } else if (ch === '\n' && !triple) {
        return; // unterminated: the parser reports it
      } else if (formatted && ch === '{') {
        if (code[this.i + 1] === '{') this.i += 2;
        else {
          this.i++;
          this.scanField(triple);
        }
      } else this.i++;
    }
  }

  /** A replacement field after its `{`: expression, `!r`, `:spec` (with nested fields), `}`. */
  private scanField(triple: boolean): void {
    const code = this.code;
    const outerTriple = this.inTripleQuote;
    this.inTripleQuote = triple;
    try {
      this.scanCode(true);
      if (code[this.i] === '!') this.i += 2;
      if (code[this.i] === ':') {
        this.i++;
        while (this.i < code.length && code[this.i] !== '}') {
          if (code[this.i] === '{') {
            this.i++;
            this.scanField(triple);
          } else if (code[this.i] === '\n' && !triple) return;
          else this.i++;
        }
      }
      if (code[this.i] === '}') this.i++;
    } finally {
      this.inTripleQuote = outerTriple;
    }
  }

  /** A number starting at `i` on a digit (not inside a name: names are consumed whole). */
  private scanNumber(): void {
    const code = this.code;
    if (code[this.i] === '0' && /[xXoObB]/.test(code[this.i + 1] ?? '')) {
      this.i += 2;
      while (/[0-9a-fA-F_]/.test(code[this.i] ?? '')) this.i++;
      return;
    }
    while (isDigit(code[this.i]) || code[this.i] === '_') this.i++;
    if (code[this.i] !== '.') {
      this.scanExponentAndImaginary();
      return;
    }
    const dot = this.i;
    const next = code[dot + 1];
    if (isDigit(next)) {
      this.i = dot + 1;
      this.scanDigitsAndExponent();
      return;
    }
    const exponent = (next === 'e' || next === 'E') && (isDigit(code[dot + 2]) || ((code[dot + 2] === '+' || code[dot + 2] === '-') && isDigit(code[dot + 3])));
    const imaginary = (next === 'j' || next === 'J') && !isWordChar(code[dot + 2]);
    if (exponent || imaginary) {
      this.dots.push(dot);
      this.i = dot + 1;
      this.scanExponentAndImaginary();
      return;
    }
    // `1.real` is not a float CPython accepts ("invalid decimal literal"): leave it as written.
    if (isWordChar(next)) {
      this.i = dot;
      return;
    }
    this.dots.push(dot);
    this.i = dot + 1;
  }

  private scanDigitsAndExponent(): void {
    while (isDigit(this.code[this.i]) || this.code[this.i] === '_') this.i++;
    this.scanExponentAndImaginary();
  }

  private scanExponentAndImaginary(): void {
    const code = this.code;
    if (code[this.i] === 'e' || code[this.i] === 'E') {
      let j = this.i + 1;
      if (code[j] === '+' || code[j] === '-') j++;
      if (isDigit(code[j])) {
        this.i = j;
        while (isDigit(code[this.i]) || code[this.i] === '_') this.i++;
      }
    }
    if (code[this.i] === 'j' || code[this.i] === 'J') this.i++;
  }
}
