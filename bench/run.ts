/**
 * `npm run bench`: runs every benchmark, prints the performance targets next to what was measured, and
 * writes bench/results/benchmarks.json. Figures are reported, never enforced: the exit code is 0 whether or
 * not a target is met (it is non-zero only when a benchmark could not run at all).
 *
 * Knobs (environment): BENCH_SYNTH_RUNS (default 2), BENCH_IMPORT_RUNS (5), BENCH_REQUESTS (300),
 * BENCH_WARMUP (50), BENCH_ROUTER_PASSES (3), BENCH_SCORER_ANSWERS (200), BENCH_ONBOARD_TENANTS (200),
 * BENCH_ONBOARD_ANSWER_TENANTS (30), BENCH_CAPACITY_TENANTS (50), BENCH_ONLY (comma list of the names in {@link BENCHES}).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchBundleSize, benchColdImport } from './bundle';
import { benchCapacity } from './capacity';
import { benchOnboardFirstAnswer } from './onboard-first-answer';
import { benchOnboarding } from './onboarding';
import { benchPoolOverhead } from './pool-overhead';
import { benchRequests } from './request';
import { benchRouter } from './router';
import { benchScorer } from './scorer';
import { type Check, fmt, table } from './stats';
import { benchSynth } from './synth';

// Node 20 is what this machine runs; the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const RESULTS_FILE = path.join(__dirname, 'results', 'benchmarks.json');

const num = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
/** Every benchmark, by the name BENCH_ONLY takes. */
const BENCHES = [
  'bundle',
  'import',
  'request',
  'pool-overhead',
  'synth',
  'router',
  'scorer',
  'onboard',
  'onboard-first-answer',
  'capacity',
] as const;
const selected = new Set(
  (process.env.BENCH_ONLY ?? BENCHES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const log = (s: string) => process.stderr.write(`${s}\n`);

function measuredText(c: Check): string {
  if (c.measured === null) return 'n/a';
  return c.unit === '×' ? `${c.measured}×` : fmt(c.measured, c.unit, c.unit === 'ms' ? (c.measured < 1 ? 3 : 0) : 1);
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = os.loadavg()[0]!;
  const out: Record<string, unknown> = {};
  const checks: Check[] = [];
  const sections: string[] = [];

  if (selected.has('bundle')) {
    log('bundle size ...');
    const b = benchBundleSize();
    out.bundle = b;
    checks.push(...b.checks);
    sections.push(
      `Inference bundle: ${b.file}, ${b.bytes.toLocaleString('en-US')} bytes\n` +
        table(
          ['top inputs (bytes in output)', 'bytes'],
          b.topInputs.map((i) => [i.path, i.bytesInOutput.toLocaleString('en-US')]),
        ) +
        '\n\n' +
        table(
          ['top packages (bytes in output)', 'bytes'],
          b.topPackages.map((p) => [p.name, p.bytesInOutput.toLocaleString('en-US')]),
        ),
    );
  }

  if (selected.has('import')) {
    log('cold import ...');
    const ci = await benchColdImport({ runs: num('BENCH_IMPORT_RUNS', 5), log });
    out.coldImport = ci;
    checks.push(...ci.checks);
    sections.push(
      `Cold import, fresh node process each (median of ${ci.runs})\n` +
        table(
          ['variant', 'require()', 'whole process'],
          ci.variants.map((v) => [v.variant, fmt(v.requireMs, 'ms', 1), fmt(v.processMs, 'ms', 0)]),
        ),
    );
  }

  if (selected.has('request')) {
    log('warm requests ...');
    const r = await benchRequests({
      warmup: num('BENCH_WARMUP', 50),
      requests: num('BENCH_REQUESTS', 300),
      log,
    });
    out.request = r;
    checks.push(...r.checks);
    sections.push(
      `Warm POST /v1/inference, ${r.requests} sequential requests after ${r.warmup} warm-up (blocks of ${r.blockSize}, alternating)\n` +
        table(
          ['side', 'p50', 'p90', 'p99', 'mean'],
          (
            [
              ['bundled handler', r.handler],
              ['plain http2 + fetch', r.baseline],
            ] as const
          ).map(([name, x]) => [
            name,
            fmt(x.p50Ms, 'ms', 2),
            fmt(x.p90Ms, 'ms', 2),
            fmt(x.p99Ms, 'ms', 2),
            fmt(x.meanMs, 'ms', 2),
          ]),
        ) +
        `\np50 overhead ${r.p50OverheadMs} ms; p99 ratio ${r.p99Ratio}×`,
    );
  }

  if (selected.has('pool-overhead')) {
    log('pool overhead (silo vs pooled, warm) ...');
    const r = await benchPoolOverhead({
      warmup: num('BENCH_WARMUP', 50),
      requests: num('BENCH_REQUESTS', 300),
      log,
    });
    out.poolOverhead = r;
    checks.push(...r.checks);
    sections.push(
      `Warm POST /v1/inference, silo function vs pooled (authorizer + pool function), ${r.requests} sequential requests each after ${r.warmup} warm-up (blocks of ${r.blockSize}, alternating)\n` +
        table(
          ['side', 'p50', 'p95', 'p99', 'mean'],
          (
            [
              ['silo function', r.silo],
              ['pooled: authorizer + function', r.pooled],
              ['pooled: function alone', r.pooledFunction],
            ] as const
          ).map(([name, x]) => [
            name,
            fmt(x.p50Ms, 'ms', 2),
            fmt(x.p95Ms, 'ms', 2),
            fmt(x.p99Ms, 'ms', 2),
            fmt(x.meanMs, 'ms', 2),
          ]),
        ) +
        `\npooled / silo: p50 ${r.p50Ratio}×, p95 ${r.p95Ratio}×`,
    );
  }

  if (selected.has('synth')) {
    log('synth (fresh tsx process per run) ...');
    const s = await benchSynth({ runs: num('BENCH_SYNTH_RUNS', 2), log });
    out.synth = s;
    checks.push(...s.checks);
    sections.push(
      `Synth, one fresh process per run (midpoint of ${s.runsPerConfig} runs; wall = spawn to exit)\n` +
        table(
          ['config', 'files', 'stacks', 'validation', 'wall', 'import', 'construct', 'synth', 'peak RSS', 'runs'],
          s.measurements.map((m) => [
            m.id,
            String(m.files),
            String(m.tenants + 1),
            m.validation,
            m.skipped ? 'skipped' : m.error ? 'FAILED' : fmt(m.wallMs, 'ms', 0),
            fmt(m.importMs, 'ms', 0),
            fmt(m.constructMs, 'ms', 0),
            fmt(m.synthMs, 'ms', 0),
            fmt(m.maxRssMb, 'MiB', 0),
            m.wallMsRuns.map((x) => Math.round(x)).join(', ') || '-',
          ]),
        ) +
        `\nmarginal per extra tenant (10→100): off ${fmt(s.marginalMsPerTenantOff, 'ms')}, on ${fmt(s.marginalMsPerTenantOn, 'ms')}` +
        s.measurements
          .filter((m) => m.skipped || m.error)
          .map((m) => `\n${m.id}: ${m.skipped ? `skipped: ${m.skipped}` : `error: ${m.error?.split('\n')[0]}`}`)
          .join(''),
    );
  }

  if (selected.has('router')) {
    log('router ...');
    const r = benchRouter({ passes: num('BENCH_ROUTER_PASSES', 3) });
    out.router = r;
    checks.push(...r.checks);
    sections.push(
      `Router (scoreRequest + chooseTier), in process, warm: ${r.prompts} prompts × ${r.passes} passes, mean ${r.meanPromptChars} chars\n` +
        table(['p50', 'p99', 'max'], [[fmt(r.p50Ms, 'ms', 4), fmt(r.p99Ms, 'ms', 4), fmt(r.maxMs, 'ms', 3)]]),
    );
  }

  if (selected.has('scorer')) {
    log('confidence scorer on adversarial answers ...');
    const r = benchScorer({ answers: num('BENCH_SCORER_ANSWERS', 200) });
    out.scorer = r;
    checks.push(...r.checks);
    sections.push(
      `Confidence scorer, ${r.answers} generated answers of ${r.chars.toLocaleString('en-US')} characters (warm, one timed run each)\n` +
        table(['p50', 'max', 'slowest unit'], [[fmt(r.p50Ms, 'ms', 2), fmt(r.maxMs, 'ms', 2), r.slowestUnit]]),
    );
  }

  if (selected.has('onboard')) {
    log('onboarding ...');
    const r = await benchOnboarding({ tenants: num('BENCH_ONBOARD_TENANTS', 200), log });
    out.onboarding = r;
    checks.push(...r.checks);
    sections.push(
      `Onboarding, ${r.tenants} pooled tenants one after the other (control plane handler, registry on dynalite)\n` +
        table(
          ['POST p50', 'POST p95', 'POST → key accepted p50', 'max'],
          [
            [
              fmt(r.postP50Ms, 'ms', 2),
              fmt(r.postP95Ms, 'ms', 2),
              fmt(r.toKeyAcceptedP50Ms, 'ms', 2),
              fmt(r.toKeyAcceptedMaxMs, 'ms', 1),
            ],
          ],
        ),
    );
  }

  if (selected.has('onboard-first-answer')) {
    log('onboarding → first answered request (pool cell) ...');
    const r = await benchOnboardFirstAnswer({ tenants: num('BENCH_ONBOARD_ANSWER_TENANTS', 30), log });
    out.onboardFirstAnswer = r;
    checks.push(...r.checks);
    sections.push(
      `Onboarding → first answered request, ${r.tenants} new pooled tenants one after the other after ${r.warmTenants} warm-up tenants (control plane handler, authorizer and pool function bundles; registry, session and admission cold for each)\n` +
        table(
          ['p50', 'p95', 'max', 'POST p50', 'authorizer p50', 'pool function p50'],
          [
            [
              fmt(r.totalP50Ms, 'ms', 2),
              fmt(r.totalP95Ms, 'ms', 2),
              fmt(r.totalMaxMs, 'ms', 2),
              fmt(r.postP50Ms, 'ms', 2),
              fmt(r.authorizerP50Ms, 'ms', 2),
              fmt(r.functionP50Ms, 'ms', 2),
            ],
          ],
        ),
    );
  }

  if (selected.has('capacity')) {
    log('capacity ...');
    const r = await benchCapacity({ tenants: num('BENCH_CAPACITY_TENANTS', 50), log });
    out.capacity = r;
    checks.push(...r.checks);
    const { silo, pool } = r.models;
    const n = (x: number) => x.toLocaleString('en-US');
    const usd = (x: number) => (x >= 0.01 ? x.toFixed(2) : x.toExponential(2));
    sections.push(
      `Capacity per tenancy model (capacity model, cdk.json platform; a region holding the platform, the control plane and ${pool.cells} cell${pool.cells === 1 ? '' : 's'})\n` +
        table(
          [
            'model',
            'per region (defaults)',
            'first ceiling',
            'per region (at best)',
            'ceiling at best',
            'per account',
            'resources/tenant',
            'API keys/tenant',
            'idle USD/month/tenant',
          ],
          [silo, pool].map((m) => [
            `${m.model} (${m.samplePlan})`,
            n(m.fit.perRegion),
            m.fit.perRegionCeiling,
            n(m.fit.perRegionAtBest),
            m.fit.perRegionAtBestCeiling,
            n(m.fit.perAccount),
            String(m.resourcesPerTenant),
            String(m.apiKeysPerTenant),
            usd(m.idleMonthlyUsdPerTenant),
          ]),
        ) +
        `\n\nPool cell: ${pool.tenantsPerCell} tenants (bound by ${pool.bindingCellLimit}; ${pool.cellLimits.map((l) => `${l.id} ${n(l.tenants)}`).join(', ')}); ` +
        `${n(pool.cellsFit.perRegion)} cells per region with the defaults (${pool.cellsFit.perRegionCeiling}), ${n(pool.cellsFit.perRegionAtBest)} at best; ` +
        `fixed cost ${usd(pool.cellFixedMonthlyUsd)} USD a month per cell, ${usd(pool.fixedCostPerPlaceUsd)} per place.\n` +
        `Idle silo tenant / idle pooled tenant: ${n(Math.round(r.models.idleCostRatio))}×.\n` +
        `At full rate at once (${pool.atFullRate.ratePerTenant} requests/s, ${pool.atFullRate.secondsPerRequest} s a full answer): ${n(pool.atFullRate.tenantsByConcurrency)} pooled tenants before the account's Lambda concurrency, ${n(pool.atFullRate.tenantsByApiThrottle)} before its API Gateway throttle.\n` +
        `${n(r.target.pooled)} pooled tenants with ${r.target.cells} cells: ${r.target.crossed.length ? `crosses ${r.target.crossed.join(', ')}` : 'no limit crossed'} (assessed in ${fmt(r.assessMs, 'ms', 0)}, median of 3).\n` +
        `Measured: ${r.measured.tenants} pooled tenants onboarded on dynalite keep ${n(r.measured.bytesPerTenant)} registry bytes each (table and index): ${usd(r.measured.monthlyUsdPerTenant)} USD a month.`,
    );
  }

  const totalS = Math.round((performance.now() - started) / 100) / 10;
  // Other work on this 2-core machine (tests, builds) skews absolute times; record how busy it was.
  const load = `load average (1 min) ${loadAtStart.toFixed(2)} at start, ${os.loadavg()[0]!.toFixed(2)} at end`;
  const summary = table(
    ['measurement', 'target', 'measured', 'met'],
    checks.map((c) => [c.label, c.target, measuredText(c), c.met === null ? 'n/a' : c.met ? 'yes' : 'NO']),
  );
  const notes = checks.filter((c) => c.note).map((c) => `  ${c.id}: ${c.note}`);
  console.log(
    `\n${sections.join('\n\n')}\n\nPerformance targets (reported only, never enforced)\n${summary}\n${notes.join('\n')}\n\nbench took ${totalS} s; ${load}; ${os.cpus().length} CPUs`,
  );

  const result = {
    generatedAt: new Date().toISOString(),
    durationS: totalS,
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      loadAverage1m: { start: loadAtStart, end: os.loadavg()[0] },
    },
    note: 'Absolute times depend on the machine; compare ratios measured within one run. Targets are reported, not enforced.',
    checks,
    ...out,
  };
  // A partial run (BENCH_ONLY) keeps the sections it did not re-measure.
  if (BENCHES.some((b) => !selected.has(b)) && fs.existsSync(RESULTS_FILE)) {
    const prev = JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>;
    const merged = { ...prev, ...result, checks: mergeChecks(prev.checks as Check[] | undefined, checks) };
    fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(merged, null, 2)}\n`);
  } else {
    fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`);
  }
  console.log(`results: ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

function mergeChecks(prev: Check[] | undefined, now: Check[]): Check[] {
  const ids = new Set(now.map((c) => c.id));
  return [...(prev ?? []).filter((c) => !ids.has(c.id)), ...now];
}

main().then(
  // The SDK clients in this process keep sockets open; the results are written, so leave now.
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
