/**
 * The review code's layout holds: the core imports no AWS SDK, no HTTP and no adapter; nothing in the review
 * code imports the inference code; no function is over 100 lines and no file over 400 (functions measured from
 * their first to their last line, as @swc/core parses them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSync } from '@swc/core';

const ROOT = path.resolve(__dirname, '../../..');
const DIRS = ['lambda/review', 'lambda/review-api', 'lambda/review-steps'];

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
}
const FILES = DIRS.flatMap(filesUnder);
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const importsOf = (f: string) => [...read(f).matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

const FUNCTION_TYPES = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ClassMethod',
  'Constructor',
  'MethodProperty',
  'GetterProperty',
  'SetterProperty',
]);

/** Lines of every function in `file` (with the line it starts on). */
function functionLengths(file: string): Array<{ at: string; lines: number }> {
  // The sentinel pins the module's span at offset 0 (swc numbers spans across parses).
  const text = `0;\n${read(file)}`;
  const ast = parseSync(text, { syntax: 'typescript' });
  const bytes = Buffer.from(text, 'utf8');
  const lineAt = (offset: number) =>
    bytes
      .subarray(0, offset - ast.span.start)
      .toString('utf8')
      .split('\n').length - 1;
  const out: Array<{ at: string; lines: number }> = [];
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      n.forEach(visit);
      return;
    }
    const node = n as { type?: string; span?: { start: number; end: number } };
    if (node.type && FUNCTION_TYPES.has(node.type) && node.span) {
      const start = lineAt(node.span.start);
      out.push({ at: `${file}:${start}`, lines: lineAt(node.span.end) - start + 1 });
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'span') visit(v);
  };
  visit(ast.body);
  return out;
}

describe('review code layout', () => {
  it('has its files under the three review folders', () => {
    expect(FILES.length).toBeGreaterThan(15);
  });

  it('keeps the core free of the AWS SDK, HTTP and the adapters', () => {
    const core = FILES.filter((f) => f.startsWith('lambda/review/core/'));
    const bad = core.flatMap((f) =>
      importsOf(f)
        .filter((i) => /^@aws-sdk\/|^aws-lambda$|\/adapters\/|\/http\/|^\.\.\/(adapters|http)\//.test(i))
        .map((i) => `${f} imports ${i}`),
    );
    expect(bad).toEqual([]);
    expect(core.filter((f) => /statusCode|Retry-After/.test(read(f)))).toEqual([]);
  });

  it('never imports the inference code', () => {
    expect(
      FILES.flatMap((f) =>
        importsOf(f)
          .filter((i) => i.includes('inference'))
          .map((i) => `${f}: ${i}`),
      ),
    ).toEqual([]);
  });

  it('has no function over 100 lines and no file over 400', () => {
    const lengths = FILES.flatMap(functionLengths);
    // The measure sees the functions (a parse that found none would pass anything).
    expect(Math.max(...lengths.map((l) => l.lines))).toBeGreaterThan(30);
    expect(lengths.filter((l) => l.lines > 100)).toEqual([]);
    expect(FILES.filter((f) => read(f).split('\n').length - 1 > 400)).toEqual([]);
  });
});
