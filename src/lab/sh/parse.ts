/**
 * Parser of the lab's small POSIX sh subset. What it does not support is a parse error
 * naming the construct (the caller exits 2), never silently misread.
 */

export type WordPart =
  | { t: 'lit'; v: string; quoted: boolean }
  | { t: 'var'; name: string; quoted: boolean; op?: ParamOp; arg?: Word; length?: boolean }
  | { t: 'cmdsub'; script: Script; quoted: boolean };
export type ParamOp = ':-' | '-' | ':+' | '+' | ':=' | '=' | ':?' | '?';
export type Word = WordPart[];

export interface Redir {
  fd: number;
  op: '>' | '>>' | '<' | '>&' | '<&';
  target: Word;
}
export interface Simple {
  assigns: Array<{ name: string; value: Word }>;
  words: Word[];
  redirs: Redir[];
  line: number;
  /** A subshell `( list )` (then `words` and `assigns` are empty; `redirs` apply to it). */
  sub?: Script;
}
export interface Pipeline {
  bang: boolean;
  cmds: Simple[];
}
export interface AndOr {
  first: Pipeline;
  rest: Array<{ op: '&&' | '||'; p: Pipeline }>;
  background: boolean;
}
export type Script = AndOr[];

export class ShSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const RESERVED = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'for',
  'while',
  'until',
  'do',
  'done',
  'case',
  'esac',
  'in',
  'function',
  'select',
  '{',
  '}',
  '[[',
  ']]',
]);
const OP_CHARS = new Set([';', '&', '|', '<', '>', '(', ')', '\n']);

export function parseScript(src: string): Script {
  const p = new Parser(src);
  const s = p.script(false);
  return s;
}

class Parser {
  pos = 0;
  line = 1;
  constructor(private readonly src: string) {}

  private peek(o = 0): string {
    return this.src[this.pos + o] ?? '';
  }
  private eof(): boolean {
    return this.pos >= this.src.length;
  }
  private next(): string {
    const c = this.src[this.pos++] ?? '';
    if (c === '\n') this.line++;
    return c;
  }
  private fail(msg: string): never {
    throw new ShSyntaxError(this.line, msg);
  }
  private unsupported(what: string): never {
    throw new ShSyntaxError(this.line, `lab sh does not support ${what}`);
  }

  private skipBlanks(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t') this.next();
      else if (c === '\\' && this.peek(1) === '\n') {
        this.next();
        this.next();
      } else if (c === '#') {
        while (!this.eof() && this.peek() !== '\n') this.next();
      } else return;
    }
  }
  private skipLinebreaks(): void {
    for (;;) {
      this.skipBlanks();
      if (this.peek() === '\n') this.next();
      else return;
    }
  }

  /** A list of and-or lists up to EOF (or `)` when nested in $(...)). */
  script(nested: boolean): Script {
    const out: Script = [];
    for (;;) {
      this.skipLinebreaks();
      if (this.eof()) {
        if (nested) this.fail('Syntax error: end of file unexpected (expecting ")")');
        return out;
      }
      if (nested && this.peek() === ')') {
        this.next();
        return out;
      }
      if (this.peek() === ';' || this.peek() === '&' || this.peek() === '|') this.fail(`Syntax error: "${this.opText()}" unexpected`);
      const ao = this.andOr(nested);
      out.push(ao);
      this.skipBlanks();
      const c = this.peek();
      if (c === ';') {
        this.next();
        if (this.peek() === ';') this.unsupported('";;" (case)');
      } else if (c === '&') {
        this.next();
        ao.background = true;
      } else if (c === '\n') {
        this.next();
      } else if (nested && c === ')') {
        continue;
      } else if (!this.eof()) {
        this.fail(`Syntax error: "${this.opText()}" unexpected`);
      }
    }
  }

  private opText(): string {
    const two = this.src.slice(this.pos, this.pos + 2);
    if (['&&', '||', ';;', '>>', '<<'].includes(two)) return two;
    return this.peek() === '\n' ? 'newline' : this.peek();
  }

  private andOr(nested: boolean): AndOr {
    const first = this.pipeline(nested);
    const rest: AndOr['rest'] = [];
    for (;;) {
      this.skipBlanks();
      const two = this.src.slice(this.pos, this.pos + 2);
      if (two !== '&&' && two !== '||') break;
      this.next();
      this.next();
      this.skipLinebreaks();
      rest.push({ op: two, p: this.pipeline(nested) });
    }
    return { first, rest, background: false };
  }

  private pipeline(nested: boolean): Pipeline {
    this.skipBlanks();
    let bang = false;
    if (this.peek() === '!' && /[\s]/.test(this.peek(1))) {
      this.next();
      bang = true;
    }
    const cmds = [this.simple(nested)];
    for (;;) {
      this.skipBlanks();
      if (this.peek() === '|' && this.peek(1) !== '|') {
        this.next();
        this.skipLinebreaks();
        cmds.push(this.simple(nested));
      } else break;
    }
    return { bang, cmds };
  }

  private simple(nested: boolean): Simple {
    const cmd: Simple = { assigns: [], words: [], redirs: [], line: this.line };
    for (;;) {
      this.skipBlanks();
      const c = this.peek();
      if (this.eof() || c === '\n' || c === ';' || c === '&' || c === '|' || (nested && c === ')')) break;
      if (c === '(') {
        if (cmd.words.length === 1) this.unsupported('function definitions');
        if (cmd.words.length > 0 || cmd.assigns.length > 0 || cmd.redirs.length > 0 || cmd.sub) this.fail('Syntax error: "(" unexpected');
        this.next();
        cmd.sub = this.script(true);
        continue;
      }
      if (cmd.sub && !/[0-9<>]/.test(c)) this.fail(`Syntax error: word unexpected (expecting ")")`);
      if (c === ')') this.fail('Syntax error: ")" unexpected');
      const redir = this.tryRedir();
      if (redir) {
        cmd.redirs.push(redir);
        continue;
      }
      const start = this.pos;
      const word = this.word();
      if (cmd.words.length === 0) {
        const assign = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(this.src.slice(start, this.pos));
        const first = word[0];
        if (assign?.[1] !== undefined && first?.t === 'lit' && !first.quoted && first.v.startsWith(`${assign[1]}=`)) {
          const rest: Word = [{ t: 'lit', v: first.v.slice(assign[1].length + 1), quoted: false }, ...word.slice(1)];
          cmd.assigns.push({ name: assign[1], value: rest });
          continue;
        }
        const only = word.length === 1 && first?.t === 'lit' && !first.quoted ? first.v : undefined;
        if (only !== undefined && RESERVED.has(only)) this.unsupported(`"${only}" (compound commands)`);
      }
      cmd.words.push(word);
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirs.length === 0 && !cmd.sub) {
      this.fail(`Syntax error: "${this.eof() ? 'end of file' : this.opText()}" unexpected`);
    }
    return cmd;
  }

  private tryRedir(): Redir | undefined {
    let i = this.pos;
    let fdText = '';
    while (/[0-9]/.test(this.src[i] ?? '')) fdText += this.src[i++];
    const c = this.src[i] ?? '';
    if (c !== '>' && c !== '<') return undefined;
    const c2 = this.src[i + 1] ?? '';
    let op: Redir['op'];
    let len = 1;
    if (c === '>') {
      if (c2 === '>') {
        op = '>>';
        len = 2;
      } else if (c2 === '&') {
        op = '>&';
        len = 2;
      } else if (c2 === '|') {
        op = '>';
        len = 2;
      } else op = '>';
    } else {
      if (c2 === '<') this.unsupported('here-documents (<<)');
      if (c2 === '>') this.unsupported('"<>" redirections');
      if (c2 === '&') {
        op = '<&';
        len = 2;
      } else op = '<';
    }
    this.pos = i + len;
    this.skipBlanks();
    if (this.eof() || OP_CHARS.has(this.peek())) this.fail(`Syntax error: redirection without a target`);
    const target = this.word();
    const fd = fdText === '' ? (c === '>' ? 1 : 0) : Number(fdText);
    if (fd > 9) this.unsupported(`file descriptor ${fd}`);
    return { fd, op, target };
  }

  /** One word: quotes, escapes and expansions until an unquoted blank or operator. */
  private word(): Word {
    const parts: Word = [];
    let lit = '';
    const flush = () => {
      if (lit !== '') parts.push({ t: 'lit', v: lit, quoted: false });
      lit = '';
    };
    const startPos = this.pos;
    for (;;) {
      const c = this.peek();
      if (this.eof() || c === ' ' || c === '\t' || OP_CHARS.has(c)) break;
      if (c === "'") {
        flush();
        parts.push({ t: 'lit', v: this.singleQuoted(), quoted: true });
      } else if (c === '"') {
        flush();
        this.next();
        this.doubleQuoted(parts);
      } else if (c === '\\') {
        this.next();
        if (this.peek() === '\n') {
          this.next();
          continue;
        }
        flush();
        parts.push({ t: 'lit', v: this.next(), quoted: true });
      } else if (c === '$') {
        flush();
        parts.push(this.dollar(false));
      } else if (c === '`') {
        this.unsupported('backquote command substitution (use $(...))');
      } else if (c === '*' || c === '?') {
        this.unsupported(`globbing ("${c}"); quote the word`);
      } else if (c === '~' && this.pos === startPos) {
        this.next();
        flush();
        parts.push({ t: 'var', name: 'HOME', quoted: true });
      } else {
        lit += this.next();
      }
    }
    flush();
    return parts;
  }

  /** '...' from the opening quote: everything literal up to the closing one. */
  private singleQuoted(): string {
    this.next();
    let v = '';
    while (this.peek() !== "'") {
      if (this.eof()) this.fail('Syntax error: Unterminated quoted string');
      v += this.next();
    }
    this.next();
    return v;
  }

  private doubleQuoted(parts: Word): void {
    let lit = '';
    const before = parts.length;
    const flush = () => {
      if (lit !== '') parts.push({ t: 'lit', v: lit, quoted: true });
      lit = '';
    };
    for (;;) {
      if (this.eof()) this.fail('Syntax error: Unterminated quoted string');
      const c = this.next();
      if (c === '"') break;
      if (c === '\\') {
        const n = this.peek();
        if (n === '$' || n === '`' || n === '"' || n === '\\') lit += this.next();
        else if (n === '\n') this.next();
        else lit += '\\';
      } else if (c === '$') {
        this.pos--;
        flush();
        parts.push(this.dollar(true));
      } else if (c === '`') {
        this.unsupported('backquote command substitution (use $(...))');
      } else lit += c;
    }
    flush();
    // "" is one empty word, while "$@" with no parameters is none.
    if (parts.length === before) parts.push({ t: 'lit', v: '', quoted: true });
  }

  private dollar(quoted: boolean): WordPart {
    this.next(); // $
    const c = this.peek();
    if (c === '(') {
      if (this.peek(1) === '(') this.unsupported('arithmetic expansion $((...))');
      this.next();
      const script = this.script(true);
      return { t: 'cmdsub', script, quoted };
    }
    if (c === '{') {
      this.next();
      let length = false;
      if (this.peek() === '#' && this.peek(1) !== '}') {
        this.next();
        length = true;
      }
      const name = this.paramName();
      if (name === '') this.fail('Syntax error: Bad substitution');
      if (this.peek() === '}') {
        this.next();
        return { t: 'var', name, quoted, length };
      }
      if (length) this.fail('Syntax error: Bad substitution');
      let op = '';
      if (this.peek() === ':') op += this.next();
      const o = this.peek();
      if (o === '-' || o === '+' || o === '=' || o === '?') op += this.next();
      else this.unsupported(`the parameter expansion "\${${name}${op}${o}..."`);
      const arg = this.braceArg(quoted);
      return { t: 'var', name, quoted, op: op as ParamOp, arg };
    }
    if (/[A-Za-z_]/.test(c)) return { t: 'var', name: this.paramName(), quoted };
    if (/[0-9?#@*$!-]/.test(c) && c !== '') return { t: 'var', name: this.next(), quoted };
    return { t: 'lit', v: '$', quoted: true };
  }

  private paramName(): string {
    const c = this.peek();
    if (/[0-9?#@*$!-]/.test(c) && c !== '') return this.next();
    let n = '';
    while (/[A-Za-z0-9_]/.test(this.peek()) && !this.eof()) n += this.next();
    return n;
  }

  /** The word after ${NAME:- ... up to the closing brace. */
  private braceArg(quoted: boolean): Word {
    const parts: Word = [];
    let lit = '';
    const flush = () => {
      if (lit !== '') parts.push({ t: 'lit', v: lit, quoted });
      lit = '';
    };
    for (;;) {
      if (this.eof()) this.fail('Syntax error: Missing "}"');
      const c = this.peek();
      if (c === '}') {
        this.next();
        break;
      }
      if (c === "'" && !quoted) {
        flush();
        parts.push({ t: 'lit', v: this.singleQuoted(), quoted: true });
      } else if (c === '"' && !quoted) {
        flush();
        this.next();
        this.doubleQuoted(parts);
      } else if (c === '\\') {
        this.next();
        lit += this.next();
      } else if (c === '$') {
        flush();
        parts.push(this.dollar(quoted));
      } else lit += this.next();
    }
    flush();
    return parts;
  }
}
