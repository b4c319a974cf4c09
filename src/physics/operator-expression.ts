import { type CMatrix, add, mul, scale, sub } from '../math/cmatrix.js';
import type { SpinSystem } from '../spin/spin-system.js';
import { scalarProduct } from './hamiltonian.js';

/**
 * Operator expressions of the spec (interface.md): Ix(a) Iy(a) Iz(a) Ip(a) Im(a), E,
 * singlet(a,b), Ia.Ib (or I(a).I(b)), real numbers, + - * / and parentheses.
 */
export type OpExpr =
  | { kind: 'num'; value: number }
  | { kind: 'single'; component: 'x' | 'y' | 'z' | 'p' | 'm'; spin: string }
  | { kind: 'E' }
  | { kind: 'singlet'; a: string; b: string }
  | { kind: 'dot'; a: string; b: string }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; l: OpExpr; r: OpExpr }
  | { kind: 'neg'; x: OpExpr };

export class OperatorExpressionError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

type Token = { t: 'num'; v: number; pos: number } | { t: 'id'; v: string; pos: number } | { t: 'sym'; v: string; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    if ('+-*/().,'.includes(c)) {
      out.push({ t: 'sym', v: c, pos: i });
      i++;
      continue;
    }
    throw new OperatorExpressionError(`unexpected character '${c}'`, i);
  }
  return out;
}

export function parseOperatorExpression(src: string): OpExpr {
  const toks = tokenize(src);
  let k = 0;
  const peek = (): Token | undefined => toks[k];
  const pos = (): number => peek()?.pos ?? src.length;
  const isSym = (v: string): boolean => {
    const t = peek();
    return t !== undefined && t.t === 'sym' && t.v === v;
  };
  const expectSym = (v: string): void => {
    if (!isSym(v)) throw new OperatorExpressionError(`expected '${v}'`, pos());
    k++;
  };
  const expectId = (what: string): string => {
    const t = peek();
    if (!t || t.t !== 'id') throw new OperatorExpressionError(`expected ${what}`, pos());
    k++;
    return t.v;
  };

  const parseSum = (): OpExpr => {
    let l = parseProduct();
    while (isSym('+') || isSym('-')) {
      const op = (toks[k++] as Token).v as '+' | '-';
      l = { kind: 'bin', op, l, r: parseProduct() };
    }
    return l;
  };
  const parseProduct = (): OpExpr => {
    let l = parseUnary();
    while (isSym('*') || isSym('/')) {
      const op = (toks[k++] as Token).v as '*' | '/';
      l = { kind: 'bin', op, l, r: parseUnary() };
    }
    return l;
  };
  const parseUnary = (): OpExpr => {
    if (isSym('-')) {
      k++;
      return { kind: 'neg', x: parseUnary() };
    }
    if (isSym('+')) {
      k++;
      return parseUnary();
    }
    return parseAtom();
  };
  const parseAtom = (): OpExpr => {
    const t = peek();
    if (!t) throw new OperatorExpressionError('unexpected end of expression', src.length);
    if (t.t === 'num') {
      k++;
      return { kind: 'num', value: t.v };
    }
    if (t.t === 'sym' && t.v === '(') {
      k++;
      const e = parseSum();
      expectSym(')');
      return e;
    }
    if (t.t !== 'id') throw new OperatorExpressionError(`unexpected '${t.v}'`, t.pos);
    k++;
    const name = t.v;
    if (name === 'E') return { kind: 'E' };
    if (name === 'singlet') {
      expectSym('(');
      const a = expectId('a spin id');
      expectSym(',');
      const b = expectId('a spin id');
      expectSym(')');
      return { kind: 'singlet', a, b };
    }
    const single = /^I([xyzpm])$/.exec(name);
    if (single && isSym('(')) {
      k++;
      const spin = expectId('a spin id');
      expectSym(')');
      return { kind: 'single', component: single[1] as 'x' | 'y' | 'z' | 'p' | 'm', spin };
    }
    // I(a).I(b)  or  Ia.Ib
    let a: string | undefined;
    if (name === 'I' && isSym('(')) {
      k++;
      a = expectId('a spin id');
      expectSym(')');
    } else if (name.startsWith('I') && name.length > 1 && isSym('.')) {
      a = name.slice(1);
    }
    if (a !== undefined) {
      expectSym('.');
      const second = expectId("'I' followed by a spin id");
      let b: string;
      if (second === 'I' && isSym('(')) {
        k++;
        b = expectId('a spin id');
        expectSym(')');
      } else if (second.startsWith('I') && second.length > 1) {
        b = second.slice(1);
      } else {
        throw new OperatorExpressionError(`expected 'I<spin>' after '.'`, toks[k - 1]?.pos ?? 0);
      }
      return { kind: 'dot', a, b };
    }
    throw new OperatorExpressionError(
      `unknown operator '${name}' (known: Ix(s) Iy(s) Iz(s) Ip(s) Im(s) E singlet(s,t) Is.It)`,
      t.pos,
    );
  };

  const e = parseSum();
  if (k < toks.length) throw new OperatorExpressionError(`unexpected '${(toks[k] as Token).v}'`, (toks[k] as Token).pos);
  return e;
}

/** Spin ids an expression refers to. */
export function expressionSpins(e: OpExpr): string[] {
  switch (e.kind) {
    case 'num':
    case 'E':
      return [];
    case 'single':
      return [e.spin];
    case 'singlet':
    case 'dot':
      return [e.a, e.b];
    case 'bin':
      return [...expressionSpins(e.l), ...expressionSpins(e.r)];
    case 'neg':
      return expressionSpins(e.x);
  }
}

/** Projector onto the singlet of spins-1/2 a and b (identity on the others): 1/4 - Ia.Ib. */
export function singletProjector(system: SpinSystem, a: number, b: number): CMatrix {
  for (const i of [a, b]) {
    if (system.spin(i).spin !== 0.5) throw new Error(`singlet(${system.spin(a).id},${system.spin(b).id}) needs spins 1/2; '${system.spin(i).id}' has spin ${system.spin(i).spin}`);
  }
  if (a === b) throw new Error('singlet needs two different spins');
  return sub(scale(system.identity(), 0.25), scalarProduct(system, a, b));
}

/** Evaluate to an operator (a bare number is a number; the caller decides). */
export function evaluateExpression(e: OpExpr, system: SpinSystem): CMatrix | number {
  switch (e.kind) {
    case 'num':
      return e.value;
    case 'E':
      return system.identity();
    case 'single':
      return system.op(system.indexOf(e.spin), e.component);
    case 'singlet':
      return singletProjector(system, system.indexOf(e.a), system.indexOf(e.b));
    case 'dot': {
      const a = system.indexOf(e.a);
      const b = system.indexOf(e.b);
      if (a === b) throw new Error(`I${e.a}.I${e.b}: the two spins must differ`);
      return scalarProduct(system, a, b);
    }
    case 'neg': {
      const x = evaluateExpression(e.x, system);
      return typeof x === 'number' ? -x : scale(x, -1);
    }
    case 'bin': {
      const l = evaluateExpression(e.l, system);
      const r = evaluateExpression(e.r, system);
      switch (e.op) {
        case '*':
          if (typeof l === 'number') return typeof r === 'number' ? l * r : scale(r, l);
          return typeof r === 'number' ? scale(l, r) : mul(l, r);
        case '/':
          if (typeof r !== 'number') throw new Error('division by an operator is not defined');
          return typeof l === 'number' ? l / r : scale(l, 1 / r);
        case '+':
        case '-': {
          if (typeof l === 'number' && typeof r === 'number') return e.op === '+' ? l + r : l - r;
          if (typeof l === 'number' || typeof r === 'number') {
            throw new Error(`cannot ${e.op === '+' ? 'add' : 'subtract'} a number and an operator: write the number times E (e.g. 0.25*E)`);
          }
          return e.op === '+' ? add(l, r) : sub(l, r);
        }
      }
    }
  }
}

/** Parse and evaluate to an operator matrix. */
export function operatorFromExpression(src: string, system: SpinSystem): CMatrix {
  const v = evaluateExpression(parseOperatorExpression(src), system);
  if (typeof v === 'number') return scale(system.identity(), v);
  return v;
}

