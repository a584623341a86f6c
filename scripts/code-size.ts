/**
 * Reports the longest functions and the largest files of the TypeScript under a folder (default `lambda/`):
 *
 *   npx tsx scripts/code-size.ts [folder ...] [--top N] [--max-function 100] [--max-file 400] [--check]
 *
 * No compiler API (TypeScript 7 has none): a small scanner blanks comments, strings, template text and
 * regular expression literals, then matches braces. A `{` opens a function body when it follows `=>`, or a
 * parameter list `(...)` (optionally with a return type `): T`) that does not belong to `if`, `for`, `while`,
 * `switch`, `catch` or `with`. A function's length is its lines from the line of its parameter list (or its
 * `{` for an arrow without parentheses) to the line of its closing `}`, both included, nested functions
 * included. A file's size is its line count. `--check` exits 1 when a function or file is over its limit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Code with comments, string and template text and regex literals replaced by spaces (newlines kept). */
export function blankNonCode(src: string): string {
  const out = src.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  /** Brace depth of each open `${` of a template literal (so its `}` returns to the template). */
  const templates: number[] = [];
  let depth = 0;
  let lastSignificant = '';
  const regexCanStart = () => lastSignificant === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(lastSignificant);
  const scanTemplate = () => {
    // At the character after a backtick or after the `}` closing a `${`: up to the next `${` or closing backtick.
    const start = i;
    while (i < src.length) {
      if (src[i] === '\\') i += 2;
      else if (src[i] === '`') {
        blank(start, i);
        i++;
        lastSignificant = '`';
        return;
      } else if (src[i] === '$' && src[i + 1] === '{') {
        blank(start, i);
        i += 2;
        templates.push(depth);
        depth++;
        lastSignificant = '{';
        return;
      } else i++;
    }
    blank(start, i);
  };
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      const to = end < 0 ? src.length : end;
      blank(i, to);
      i = to;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const to = end < 0 ? src.length : end + 2;
      blank(i, to);
      i = to;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
      lastSignificant = c;
    } else if (c === '`') {
      i++;
      scanTemplate();
    } else if (c === '/' && regexCanStart()) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        else if (src[j] === '/' && !inClass) break;
        j++;
      }
      blank(i + 1, j);
      i = j + 1;
      lastSignificant = '/';
    } else {
      if (c === '{') depth++;
      if (c === '}') {
        depth--;
        if (templates.length && templates.at(-1) === depth) {
          templates.pop();
          i++;
          scanTemplate();
          continue;
        }
      }
      if (!/\s/.test(c)) lastSignificant = /[\w$]/.test(c) ? 'a' : c;
      i++;
    }
  }
  return out.join('');
}

const CONTROL = new Set(['if', 'for', 'while', 'switch', 'catch', 'with']);

/** The index of the `(` matching the `)` at `close`, or -1. */
function openParen(code: string, close: number): number {
  let d = 0;
  for (let k = close; k >= 0; k--) {
    if (code[k] === ')') d++;
    else if (code[k] === '(' && --d === 0) return k;
  }
  return -1;
}

/** Where the function whose body opens at `brace` starts, or -1 when the brace opens no function body. */
function functionStart(code: string, brace: number): number {
  let j = brace - 1;
  while (j >= 0 && /\s/.test(code[j]!)) j--;
  let arrow = false;
  if (code[j] === '>' && code[j - 1] === '=') {
    arrow = true;
    j -= 2;
    while (j >= 0 && /\s/.test(code[j]!)) j--;
    if (code[j] !== ')') return brace; // `x => {`
  } else if (code[j] !== ')') {
    // `): ReturnType {`, the return type possibly holding `{ ... }` and `=>` (but no `;` and no other `=`).
    if (!/[\w$>\]})]/.test(code[j] ?? '')) return -1;
    const before = code.slice(Math.max(0, brace - 400), brace);
    const colon = [...before.matchAll(/\)\s*:/g)].at(-1);
    if (!colon) return -1;
    const type = before.slice(colon.index + colon[0].length);
    const count = (ch: string) => type.split(ch).length - 1;
    if (type.includes(';') || /=(?!>)/.test(type) || count('{') !== count('}')) return -1;
    j = brace - before.length + colon.index;
  }
  const open = openParen(code, j);
  if (open < 0) return -1;
  if (!arrow) {
    const word = /([\w$]+)\s*$/.exec(code.slice(Math.max(0, open - 40), open))?.[1];
    if (word && CONTROL.has(word)) return -1;
  }
  return open;
}

export interface FunctionSize {
  readonly file: string;
  /** 1-based line where the function starts. */
  readonly line: number;
  readonly lines: number;
  /** The start of the line it starts on (to recognise it). */
  readonly head: string;
}

/** The functions of one source file with their lengths. */
export function functionSizes(file: string, src: string): FunctionSize[] {
  const code = blankNonCode(src);
  const lineAt: number[] = [];
  let line = 1;
  for (let k = 0; k < code.length; k++) {
    lineAt.push(line);
    if (code[k] === '\n') line++;
  }
  const srcLines = src.split('\n');
  const stack: Array<{ start: number }> = [];
  const out: FunctionSize[] = [];
  for (let k = 0; k < code.length; k++) {
    if (code[k] === '{') stack.push({ start: functionStart(code, k) });
    else if (code[k] === '}') {
      const open = stack.pop();
      if (!open || open.start < 0) continue;
      const first = lineAt[open.start]!;
      out.push({ file, line: first, lines: lineAt[k]! - first + 1, head: srcLines[first - 1]!.trim().slice(0, 70) });
    }
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function main(argv: string[]): number {
  const opt = (name: string, fallback: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const values = new Set(
    ['--top', '--max-function', '--max-file']
      .map((n) => argv.indexOf(n))
      .filter((i) => i >= 0)
      .map((i) => i + 1),
  );
  const roots = argv.filter((a, i) => !a.startsWith('--') && !values.has(i));
  const top = opt('--top', 5);
  const maxFunction = opt('--max-function', 100);
  const maxFile = opt('--max-file', 400);
  const files = (roots.length ? roots : ['lambda']).flatMap((r) => tsFiles(r)).sort();
  const sizes = files.map((f) => ({ file: f, lines: fs.readFileSync(f, 'utf8').split('\n').length }));
  const functions = files.flatMap((f) => functionSizes(f, fs.readFileSync(f, 'utf8')));
  functions.sort((a, b) => b.lines - a.lines);
  sizes.sort((a, b) => b.lines - a.lines);
  console.log(
    `${files.length} files, ${functions.length} functions under ${(roots.length ? roots : ['lambda']).join(', ')}`,
  );
  console.log(`Longest functions (limit ${maxFunction} lines):`);
  for (const f of functions.slice(0, top))
    console.log(`  ${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.head}`);
  console.log(`Largest files (limit ${maxFile} lines):`);
  for (const s of sizes.slice(0, top)) console.log(`  ${String(s.lines).padStart(4)}  ${s.file}`);
  const over = [
    ...functions.filter((f) => f.lines > maxFunction).map((f) => `${f.file}:${f.line} (${f.lines} lines)`),
    ...sizes.filter((s) => s.lines > maxFile).map((s) => `${s.file} (${s.lines} lines)`),
  ];
  if (over.length) console.log(`Over the limits: ${over.join(', ')}`);
  return argv.includes('--check') && over.length ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
