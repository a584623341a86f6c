/**
 * Finds inline arithmetic claims (`4 * 125 - 2 = 500 - 2 = 498`) in an answer with one left-to-right scan and
 * no backtracking: time linear in the text, whatever a caller makes the model write. It finds what the
 * pattern below would match (the confidence scorer used it until a model answer could make it backtrack
 * exponentially: every space can end a term or start an operator):
 *
 *   TERM  = \(* \s* \$? NUM \s* \)*            NUM = \d[\d,]*(?:\.\d+)? | \.\d+
 *   OP    = \s* ( [-+*∕x×÷] | \\\* ) \s*
 *   EXPR  = TERM (OP TERM)*
 *   CLAIM = (?<![\d.,%$] | [-+*∕×÷%^]\s*) EXPR (\s*=\s*-?EXPR)+ (?![\d.,] | \s*[%/(])
 *
 * Each claim is returned with its index and text, as `String.prototype.matchAll` would.
 */

/** One claim found in the text. */
export interface InlineClaim {
  readonly index: number;
  readonly text: string;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);
const OPERATORS = new Set(['-', '+', '*', '/', 'x', '×', '÷']);
/** Characters that may not precede a claim, and operators that may not precede it (spaces between allowed). */
const BEFORE_CHAR = new Set(['.', ',', '%', '$']);
const BEFORE_OP = new Set(['-', '+', '*', '/', '×', '÷', '%', '^']);

/** Work done by a scan: characters looked at (a scan is linear when this stays a small multiple of the length). */
export interface ScanStats {
  reads: number;
}

/** A scanner over one text: each method returns the end of what it read, or -1. */
class Scanner {
  constructor(
    private readonly s: string,
    private readonly stats: ScanStats,
  ) {}

  private spaces(i: number): number {
    while (isSpace(this.s[i])) {
      i++;
      this.stats.reads++;
    }
    return i;
  }

  private number(i: number): number {
    const s = this.s;
    const start = i;
    if (isDigit(s[i])) {
      i++;
      while (isDigit(s[i]) || s[i] === ',') i++;
      if (s[i] === '.' && isDigit(s[i + 1])) {
        i += 2;
        while (isDigit(s[i])) i++;
      }
    } else if (s[i] === '.' && isDigit(s[i + 1])) {
      i += 2;
      while (isDigit(s[i])) i++;
    } else {
      this.stats.reads++;
      return -1;
    }
    this.stats.reads += i - start;
    return i;
  }

  /**
   * A term from `i`; returns the ends the pattern could stop at, longest first: after the closing parentheses,
   * after the spaces, right after the number.
   */
  term(i: number): number[] | undefined {
    const s = this.s;
    while (s[i] === '(') {
      i++;
      this.stats.reads++;
    }
    i = this.spaces(i);
    if (s[i] === '$') i++;
    const afterNumber = this.number(i);
    if (afterNumber < 0) return undefined;
    const afterSpaces = this.spaces(afterNumber);
    let afterParens = afterSpaces;
    while (s[afterParens] === ')') {
      afterParens++;
      this.stats.reads++;
    }
    const ends: number[] = [];
    for (let e = afterParens; e >= afterSpaces; e--) ends.push(e);
    if (afterNumber < afterSpaces) ends.push(afterNumber);
    return ends;
  }

  /** An operator from `i` (spaces around it included), or -1. */
  op(i: number): number {
    const s = this.s;
    i = this.spaces(i);
    if (s[i] === '\\' && s[i + 1] === '*') i += 2;
    else if (s[i] !== undefined && OPERATORS.has(s[i]!)) i++;
    else return -1;
    return this.spaces(i);
  }

  /** `= -?` from `i`, or -1. */
  equals(i: number): number {
    const s = this.s;
    i = this.spaces(i);
    if (s[i] !== '=') return -1;
    i = this.spaces(i + 1);
    return s[i] === '-' ? i + 1 : i;
  }

  /** The pattern's negative look-ahead at a claim's end. */
  endsClean(e: number): boolean {
    const c = this.s[e];
    if (isDigit(c) || c === '.' || c === ',') return false;
    const next = this.s[this.spaces(e)];
    return next !== '%' && next !== '/' && next !== '(';
  }

  /** Where a term starting at `i` needs its number: after its opening parentheses and spaces. */
  termPrefix(i: number): number {
    while (this.s[i] === '(') {
      i++;
      this.stats.reads++;
    }
    return this.spaces(i);
  }

  /** The spaces from `i` (the end of the run). */
  spacesFrom(i: number): number {
    return this.spaces(i);
  }

  /**
   * An expression from `i`: the ends of its terms in order (each with the term's candidate ends), and the
   * farthest position read.
   */
  expr(i: number): { ends: number[][]; far: number } | undefined {
    const first = this.term(i);
    if (!first) return undefined;
    const ends = [first];
    let at = first[0]!;
    for (;;) {
      const afterOp = this.op(at);
      if (afterOp < 0) break;
      const next = this.term(afterOp);
      if (!next) break;
      ends.push(next);
      at = next[0]!;
    }
    return { ends, far: at };
  }
}

/**
 * Every inline arithmetic claim of `text`, in order, without overlaps. Linear in the length of `text` (`stats`
 * counts the characters looked at).
 */
export function inlineArithmeticClaims(text: string, stats: ScanStats = { reads: 0 }): InlineClaim[] {
  const scan = new Scanner(text, stats);
  const claims: InlineClaim[] = [];
  // The last character before `cursor` that is not a space: the look-behind's operator test, kept up to date as
  // the scan moves forward (never re-read backwards).
  let cursor = 0;
  let lastNonSpace = -1;
  const advance = (to: number) => {
    for (; cursor < to; cursor++) if (!isSpace(text[cursor])) lastNonSpace = cursor;
  };
  const afterOperator = (i: number) => {
    advance(i);
    return lastNonSpace >= 0 && BEFORE_OP.has(text[lastNonSpace]!);
  };
  const afterNumberChar = (i: number) => {
    const prev = text[i - 1];
    return isDigit(prev) || (prev !== undefined && BEFORE_CHAR.has(prev));
  };

  /** A claim starting at `start`: its end, or the farthest position a failed attempt read. */
  const claimAt = (start: number): { end: number } | { far: number } => {
    const lhs = scan.expr(start);
    // No term here: every start inside the parentheses and spaces read fails on the same character.
    if (!lhs) return { far: Math.max(start + 1, scan.termPrefix(start)) };
    // Ends after at least one "=": every term end of the right-hand sides, the last tried first.
    const candidates: number[][] = [];
    let at = lhs.far;
    for (;;) {
      const afterEq = scan.equals(at);
      if (afterEq < 0) break;
      const rhs = scan.expr(afterEq);
      if (!rhs) break;
      candidates.push(...rhs.ends);
      at = rhs.far;
    }
    for (let k = candidates.length - 1; k >= 0; k--) {
      for (const e of candidates[k]!) if (scan.endsClean(e)) return { end: e };
    }
    // Any later start inside what was read reaches the same ends and fails the same way.
    return { far: Math.max(start + 1, at) };
  };

  let i = 0;
  while (i < text.length) {
    stats.reads++;
    const c = text[i]!;
    if (isSpace(c)) {
      // A run of spaces: every position in it parses the same term (the pattern skips them), so only the first
      // position the look-behind allows is tried; then the scan goes on at the run's end.
      const runEnd = scan.spacesFrom(i);
      if (afterOperator(i)) {
        i = runEnd;
        continue;
      }
      const start = afterNumberChar(i) ? i + 1 : i;
      const r = start < runEnd ? claimAt(start) : undefined;
      if (r && 'end' in r) {
        claims.push({ index: start, text: text.slice(start, r.end) });
        i = r.end;
      } else {
        i = runEnd;
      }
      continue;
    }
    const mayStart = c === '(' || c === '$' || c === '.' || isDigit(c);
    if (!mayStart || afterNumberChar(i) || afterOperator(i)) {
      i++;
      continue;
    }
    const r = claimAt(i);
    if ('end' in r) {
      claims.push({ index: i, text: text.slice(i, r.end) });
      i = r.end;
    } else {
      i = r.far;
    }
  }
  return claims;
}
