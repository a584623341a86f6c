import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_DATA_FILE } from '../../scripts/routing-eval/data';
import { evaluateRouting } from '../../scripts/routing-eval/report';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

const fixtureRows = [
  {
    id: 'gsm8k-1',
    source: 'gsm8k',
    prompt: 'Tom has 3 apples and buys 4 more. How many apples does he have?',
    weak_quality: 1,
    strong_quality: 1,
    weak_response: 'He has 3 + 4 = <<3+4=7>>7 apples.\n#### 7',
  },
  {
    id: 'gsm8k-2',
    source: 'gsm8k',
    prompt: 'A box holds 12 eggs. How many eggs are in 5 boxes?',
    weak_quality: 0,
    strong_quality: 1,
    weak_response: 'There are 12 * 5 = <<12*5=50>>50 eggs.\n#### 50',
  },
  {
    id: 'mmlu-1',
    source: 'mmlu',
    prompt: 'Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Earth\nAnswer:',
    weak_quality: 1,
    strong_quality: 1,
  },
  {
    id: 'mmlu-2',
    source: 'mmlu',
    prompt: 'Statement 1 | Every group of order 4 is cyclic.\nA. True\nB. False\nC. Both\nD. Neither\nAnswer:',
    weak_quality: 0,
    strong_quality: 1,
  },
  {
    id: 'mt_bench-1',
    source: 'mt_bench',
    prompt: 'Write a haiku about autumn.',
    weak_quality: 0.8,
    strong_quality: 0.9,
  },
];

describe('eval-routing', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-routing-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON object of the documented shape for --json --data FILE', async () => {
    const file = path.join(dir, 'tiny.jsonl');
    fs.writeFileSync(file, `${fixtureRows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const { stdout } = await run(TSX, ['scripts/eval-routing.ts', '--json', '--data', file], { cwd: ROOT });
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ rows: 5, split: 'all' });
    const shape = { qualityShare: expect.any(Number), costShare: expect.any(Number), deepShare: expect.any(Number) };
    for (const k of ['alwaysFast', 'alwaysDeep', 'random', 'router', 'routerCascade']) {
      expect(out.strategies[k]).toMatchObject(shape);
    }
    expect(out.strategies.alwaysDeep).toMatchObject({ qualityShare: 1, costShare: 1, deepShare: 1 });
    expect(out.strategies.alwaysFast.deepShare).toBe(0);
    expect(out.strategies.alwaysFast.costShare).toBeLessThan(0.05);
    expect(out.curve.length).toBeGreaterThan(5);
    for (const point of out.curve) expect(point).toMatchObject({ threshold: expect.any(Number), ...shape });
    // The wrong weak answer (12 * 5 = 50) fails the arithmetic check; a cascade that starts on fast escalates it.
    expect(out.confidence.rows).toBe(2);
    expect(out.confidence.auroc).toBe(1);
  });

  it('reports the held-out split of the training file, reproducibly, and the router beats random', () => {
    const a = evaluateRouting(DEFAULT_DATA_FILE);
    const b = evaluateRouting(DEFAULT_DATA_FILE);
    expect(a.split).toBe('held-out');
    expect(a.rows).toBeGreaterThan(2000);
    expect(a.rows).toBeLessThan(2700);
    expect(b.strategies).toEqual(a.strategies);
    expect(b.curve).toEqual(a.curve);
    const s = a.strategies;
    expect(s.random.deepShare).toBeCloseTo(s.router.deepShare, 2);
    expect(s.router.qualityShare).toBeGreaterThan(s.random.qualityShare);
    expect(s.routerCascade.qualityShare).toBeGreaterThanOrEqual(s.router.qualityShare);
    // Quality falls and cost falls as the deep threshold rises.
    for (let i = 1; i < a.curve.length; i++)
      expect(a.curve[i]!.costShare).toBeLessThanOrEqual(a.curve[i - 1]!.costShare);
  });
});
