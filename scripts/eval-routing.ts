/**
 * `npm run eval:routing [-- --data FILE] [-- --json]`: replays a routing data file through the real router,
 * confidence scorer and cascade code and prints always-fast, always-deep, random (at the router's deep share),
 * router and router+cascade as shares of always-deep quality and cost, with the share of requests that
 * reached deep; then the router's quality/cost curve over deep thresholds and the confidence scorer's
 * figures on the rows that carry the weak model's answers. Thresholds: the shipped model's `recommended`
 * (chosen on training data only). The maths and its assumptions: scripts/routing-eval/evaluate.ts.
 *
 * `--json` prints exactly one JSON object (see `RoutingReport`). Exit code 0 unless the run fails.
 */
import * as path from 'node:path';
import { DEFAULT_DATA_FILE } from './routing-eval/data';
import { evaluateRouting } from './routing-eval/report';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
    .join('\n');
}

function main(): void {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--data');
  const file = path.resolve(i >= 0 && argv[i + 1] ? argv[i + 1]! : DEFAULT_DATA_FILE);
  const report = evaluateRouting(file);
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const s = report.strategies;
  const th = report.thresholds;
  const which =
    report.split === 'held-out'
      ? `held-out split only (${report.rows} rows the router never saw; the file is the one it was trained on)`
      : `all ${report.rows} rows (not the router's training file)`;
  const lines = [
    `Routing evaluation: ${path.relative(process.cwd(), report.file)}, ${which}`,
    `Thresholds (model defaults, chosen on training data): deep ${th.deepThreshold}, balanced ${th.balancedThreshold}, confidence ${th.confidenceThreshold}, review ${th.reviewThreshold}`,
    '',
    pad([
      ['strategy', 'quality', 'cost', 'reached deep'],
      ...(
        [
          ['always fast', s.alwaysFast],
          ['always deep', s.alwaysDeep],
          ['random', s.random],
          ['router', s.router],
          ['router + cascade', s.routerCascade],
        ] as const
      ).map(([n, x]) => [n, pct(x.qualityShare), pct(x.costShare), pct(x.deepShare)]),
    ]),
    `(quality and cost as a share of always-deep; cascade escalated ${pct(s.routerCascade.escalatedShare)}, review ${pct(s.routerCascade.reviewShare)})`,
    '',
    'By source (router → router + cascade):',
    pad([
      ['source', 'rows', 'quality', 'cost', 'deep'],
      ...Object.entries(report.bySource).map(([src, b]) => [
        src,
        String(b.rows),
        `${pct(b.router.qualityShare)} → ${pct(b.routerCascade.qualityShare)}`,
        `${pct(b.router.costShare)} → ${pct(b.routerCascade.costShare)}`,
        `${pct(b.router.deepShare)} → ${pct(b.routerCascade.deepShare)}`,
      ]),
    ]),
    '',
    'Router quality/cost curve (no balanced band, no cascade):',
    pad([
      ['deep threshold', 'quality', 'cost', 'reached deep'],
      ...report.curve.map((c) => [c.threshold.toFixed(3), pct(c.qualityShare), pct(c.costShare), pct(c.deepShare)]),
    ]),
    '',
    `Confidence scorer on ${report.confidence.rows} weak answers (GSM8K): AUROC ${report.confidence.auroc.toFixed(3)}; ` +
      `at threshold ${report.confidence.threshold} it accepts ${pct(report.confidence.acceptedShare)} with accuracy ` +
      `${pct(report.confidence.acceptedAccuracy)} (all answers: ${pct(report.confidence.baseAccuracy)})`,
    '',
    `Assumptions: ${report.assumptions}`,
    `Routing targets: quality ≥ 95%, reached deep ≤ 40%, cost ≤ 40% — router + cascade: ` +
      `${s.routerCascade.qualityShare >= 0.95 ? 'met' : 'MISSED'}, ${s.routerCascade.deepShare <= 0.4 ? 'met' : 'MISSED'}, ${s.routerCascade.costShare <= 0.4 ? 'met' : 'MISSED'}`,
  ];
  console.log(lines.join('\n'));
}

main();
