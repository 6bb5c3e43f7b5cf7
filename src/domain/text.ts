/** Small text and value helpers every layer uses (one copy each). */

/** The last non-blank line of a program's output, trimmed; '' when there is none. */
export function lastLine(text: string): string {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line !== '') return line;
  }
  return '';
}

/** The first non-blank line, trimmed; '' when there is none. */
export function firstLine(text: string): string {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line !== '') return line;
  }
  return '';
}

/** A plain JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface SplitWordsOptions {
  /**
   * Keep quotes in the words, as written, and read backslashes as plain characters (Ansible
   * INI host lines, whose values are read afterwards). @default false: quotes removed, `\` escapes
   */
  keepQuotes?: boolean;
  /** A `#` that starts a word starts a comment to the end of the text. @default false */
  comments?: boolean;
}

/** A quote that is never closed; `quote` is the character. */
export class UnclosedQuoteError extends SyntaxError {
  constructor(readonly quote: "'" | '"') {
    super(`unterminated ${quote === "'" ? 'single' : 'double'} quote`);
  }
}

/**
 * Splits sh/systemd-style words: whitespace outside quotes separates them; `'...'` is taken
 * literally, `"..."` with `\` escapes, `\x` outside quotes is x. Throws an UnclosedQuoteError.
 */
export function splitWords(text: string, o: SplitWordsOptions = {}): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = closingQuote(text, i, !o.keepQuotes && c === '"');
      if (end < 0) throw new UnclosedQuoteError(c);
      const inside = text.slice(i + 1, end);
      cur += o.keepQuotes ? c + inside + c : c === '"' ? inside.replace(/\\(.)/gs, '$1') : inside;
      i = end;
      inWord = true;
    } else if (c === '\\' && !o.keepQuotes && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (c === '#' && o.comments && !inWord) {
      break;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Index of the quote closing the one at `start`, or -1; with `escapes`, `\"` does not close it. */
function closingQuote(text: string, start: number, escapes: boolean): number {
  const q = text[start];
  for (let j = start + 1; j < text.length; j++) {
    if (escapes && text[j] === '\\') j++;
    else if (text[j] === q) return j;
  }
  return -1;
}
