/** Word expansion in the lab's sh: parameters (with their operators), $(...), field splitting, "$@". */
import type { Word } from './parse.js';
import { ExpansionError, type ExpansionScope, type Io } from './types.js';

/** Expands a word; unquoted expansions are split on blanks when `split`. */
export async function expandWord(scope: ExpansionScope, word: Word, { io, split }: { io: Io; split: boolean }): Promise<string[]> {
  const fields: string[] = [];
  let cur = '';
  let has = false;
  const pushSplit = (text: string) => {
    const pieces = text.split(/[ \t\n]+/);
    pieces.forEach((piece, i) => {
      if (i > 0) {
        if (has || cur !== '') fields.push(cur);
        cur = '';
        has = false;
      }
      if (piece !== '') {
        cur += piece;
        has = true;
      }
    });
  };
  for (const part of word) {
    if (part.t === 'lit') {
      cur += part.v;
      has = has || part.quoted || part.v !== '';
      continue;
    }
    if (part.t === 'var' && (part.name === '@' || part.name === '*') && part.op === undefined) {
      if (part.quoted && part.name === '@') {
        scope.positional.forEach((a, i) => {
          if (i > 0) {
            fields.push(cur);
            cur = '';
          }
          cur += a;
          has = true;
        });
        continue;
      }
      const v = scope.positional.join(' ');
      if (part.quoted || !split) {
        cur += v;
        has = true;
      } else pushSplit(v);
      continue;
    }
    const v = part.t === 'var' ? await param(scope, part, io) : await scope.commandSubst(part.script, io);
    if (part.quoted || !split) {
      cur += v;
      has = true;
    } else pushSplit(v);
  }
  if (has || cur !== '') fields.push(cur);
  return split ? fields : [fields.join(' ')];
}

async function param(scope: ExpansionScope, part: Extract<Word[number], { t: 'var' }>, io: Io): Promise<string> {
  const value = scope.lookup(part.name);
  if (part.length) {
    if (value === undefined && scope.nounset && !['@', '*', '#', '?', '$', '!', '-', '0'].includes(part.name))
      throw new ExpansionError(`${part.name}: parameter not set`);
    return String((value ?? '').length);
  }
  if (part.op === undefined) {
    if (value === undefined && scope.nounset && !['@', '*', '#', '?', '$', '!', '-', '0'].includes(part.name)) {
      throw new ExpansionError(`${part.name}: parameter not set`);
    }
    return value ?? '';
  }
  const colon = part.op.startsWith(':');
  const unset = value === undefined || (colon && value === '');
  const arg = async () => (await expandWord(scope, part.arg ?? [], { io, split: false })).join('');
  switch (part.op.replace(':', '')) {
    case '-':
      return unset ? arg() : (value ?? '');
    case '+':
      return unset ? '' : arg();
    case '=': {
      if (!unset) return value ?? '';
      const v = await arg();
      scope.assign(part.name, v);
      return v;
    }
    default: {
      if (!unset) return value ?? '';
      const msg = await arg();
      throw new ExpansionError(`${part.name}: ${msg === '' ? 'parameter not set' : msg}`);
    }
  }
}
