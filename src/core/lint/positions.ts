/** Offsets in a cell's source ↔ zero-based line and character, as editors and SARIF count them. */

export interface LineCharacter {
  line: number;
  character: number;
}

export function lineOfOffset(text: string, offset: number): number {
  let line = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

export function positionAt(text: string, offset: number): LineCharacter {
  const clamped = Math.max(0, Math.min(offset, text.length));
  const line = lineOfOffset(text, clamped);
  const lineStart = text.lastIndexOf('\n', clamped - 1) + 1;
  return { line, character: clamped - lineStart };
}

export function offsetAt(text: string, position: LineCharacter): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) return text.length;
    offset = next + 1;
  }
  const lineEnd = text.indexOf('\n', offset);
  return Math.min(offset + position.character, lineEnd === -1 ? text.length : lineEnd);
}

/** Span of the line holding `offset`, without its newline. */
export function lineSpanAt(text: string, offset: number): { from: number; to: number } {
  const from = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  const newline = text.indexOf('\n', offset);
  return { from: offset === 0 ? 0 : from, to: newline === -1 ? text.length : newline };
}
