/** The size limits of the handler code (no function over 100 lines, no file over 400), and how they are measured. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { functionSizes } from '../../scripts/code-size';

const ROOT = path.resolve(__dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('code size', () => {
  it('measures functions, arrows and methods from their parameter list to their closing brace, not blocks', () => {
    const src = [
      'export function a(x: number): number {', // 1
      '  if (x > 1) {', // 2: a block, not a function
      "    const s = '{ not code }';", // 3
      '  }', // 4
      '  const f = (y: number) => {', // 5
      '    return y;', // 6
      '  };', // 7
      '  return f(x);', // 8
      '}', // 9
      'class C {', // 10
      '  m(', // 11
      '    p: string,', // 12
      '  ): void {', // 13
      '    // }', // 14
      '  }', // 15
      '}', // 16
    ].join('\n');
    const sizes = functionSizes('x.ts', src).map((f) => [f.line, f.lines]);
    expect(sizes.sort()).toEqual([
      [1, 9],
      [11, 5],
      [5, 3],
    ]);
  });

  it('keeps every function under lambda/ within 100 lines and every file within 400', () => {
    const files = tsFiles(path.join(ROOT, 'lambda'));
    expect(files.length).toBeGreaterThan(40);
    const over = files.flatMap((file) => {
      const src = fs.readFileSync(file, 'utf8');
      const rel = path.relative(ROOT, file);
      const lines = src.split('\n').length;
      return [
        ...(lines > 400 ? [`${rel}: ${lines} lines`] : []),
        ...functionSizes(rel, src)
          .filter((f) => f.lines > 100)
          .map((f) => `${rel}:${f.line} ${f.head} (${f.lines} lines)`),
      ];
    });
    expect(over).toEqual([]);
  });
});
