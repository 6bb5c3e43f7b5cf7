/** test(1) / [ as the lab's sh evaluates it. */
import type { ShHost } from './types.js';

/** test(1): true/false, or an error text (exit 2). */
export function evalTest(args: string[], host: Pick<ShHost, 'fileTest'>): boolean | string {
  if (args[0] === '!') {
    const r = evalTest(args.slice(1), host);
    return typeof r === 'string' ? r : !r;
  }
  if (args.includes('-a') || args.includes('-o')) return 'lab sh does not support -a/-o in test; use && / ||';
  const [a, b, c] = args;
  if (args.length === 0) return false;
  if (args.length === 1) return (a ?? '') !== '';
  if (args.length === 2 && a !== undefined && b !== undefined) {
    if (a === '-n') return b !== '';
    if (a === '-z') return b === '';
    if (/^-[efdxsrwhL]$/.test(a)) return host.fileTest(a, b);
    return `${a}: unexpected operator`;
  }
  if (args.length === 3 && a !== undefined && b !== undefined && c !== undefined) {
    if (b === '=' || b === '==') return a === c;
    if (b === '!=') return a !== c;
    const ints = {
      '-eq': (x: number, y: number) => x === y,
      '-ne': (x: number, y: number) => x !== y,
      '-lt': (x: number, y: number) => x < y,
      '-le': (x: number, y: number) => x <= y,
      '-gt': (x: number, y: number) => x > y,
      '-ge': (x: number, y: number) => x >= y,
    } as Record<string, ((x: number, y: number) => boolean) | undefined>;
    const f = ints[b];
    if (f) {
      if (!/^-?\d+$/.test(a)) return `Illegal number: ${a}`;
      if (!/^-?\d+$/.test(c)) return `Illegal number: ${c}`;
      return f(Number(a), Number(c));
    }
    return `${b}: unexpected operator`;
  }
  return 'lab sh does not support this test expression';
}
