/**
 * Synth scaling: each measurement is a fresh process (bench/synth-child.ts through `node_modules/.bin/tsx`,
 * as `cdk synth` runs the app) over a temp folder of generated tenant files, with built-in CloudFormation
 * validation off or on. Reports wall time (spawn to exit) and the child's peak RSS.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { atMost, type Check, childEnv, midpoint, round, runChild } from './stats';
import type { SynthChildResult } from './synth-child';
import { minimalTenantFile } from './tenant-file';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const CHILD = path.join(__dirname, 'synth-child.ts');

/** One synth configuration. */
interface SynthConfig {
  readonly id: string;
  /** Tenant files in the folder. */
  readonly files: number;
  /** Stacks built from them (`only` builds one tenant). */
  readonly tenants: number;
  readonly validation: boolean;
  readonly only?: string;
}

/** Measured figures of one configuration (midpoint over its runs). */
export interface SynthMeasurement {
  readonly id: string;
  readonly files: number;
  readonly tenants: number;
  readonly validation: 'on' | 'off';
  readonly only?: string;
  readonly runs: number;
  readonly wallMs: number | null;
  readonly wallMsRuns: number[];
  readonly importMs: number | null;
  readonly constructMs: number | null;
  readonly synthMs: number | null;
  readonly maxRssMb: number | null;
  readonly skipped?: string;
  readonly error?: string;
}

export interface SynthResults {
  readonly runsPerConfig: number;
  readonly measurements: SynthMeasurement[];
  readonly marginalMsPerTenantOff: number | null;
  readonly marginalMsPerTenantOn: number | null;
  readonly onlyRatio: number | null;
  readonly checks: Check[];
}

const tenantId = (i: number) => `t${String(i).padStart(4, '0')}`;

/** A temp folder with tenant files t0001..t<n> (the minimal valid file). */
function tenantsFolder(root: string, n: number): string {
  const dir = path.join(root, `tenants-${n}`);
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= n; i++) {
    const id = tenantId(i);
    fs.writeFileSync(path.join(dir, `${id}.yaml`), minimalTenantFile(id));
  }
  return dir;
}

interface OneRun {
  readonly wallMs: number;
  readonly child: SynthChildResult;
}

async function runOnce(root: string, dir: string, c: SynthConfig, seq: number): Promise<OneRun> {
  const outdir = fs.mkdtempSync(path.join(root, `cdkout-${c.id}-`));
  const resultFile = path.join(root, `result-${c.id}-${seq}.json`);
  const args = [CHILD, '--tenants', dir, '--outdir', outdir, '--validation', c.validation ? 'on' : 'off'];
  if (c.only) args.push('--only', c.only);
  args.push('--result', resultFile);
  try {
    const run = await runChild(TSX, args, {
      cwd: ROOT,
      env: childEnv({ CDK_DISABLE_CLI_TELEMETRY: 'true' }),
      timeoutMs: 600_000,
    });
    if (run.code !== 0 || !fs.existsSync(resultFile)) {
      const tail = `${run.stderr}\n${run.stdout}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(`synth child ${c.id} exited with ${run.code ?? run.signal}:\n${tail}`);
    }
    return { wallMs: run.wallMs, child: JSON.parse(fs.readFileSync(resultFile, 'utf8')) as SynthChildResult };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
    fs.rmSync(resultFile, { force: true });
  }
}

function summarize(c: SynthConfig, runs: OneRun[], extra: { skipped?: string; error?: string } = {}): SynthMeasurement {
  const pick = (f: (r: OneRun) => number) => (runs.length ? round(midpoint(runs.map(f)), 1) : null);
  return {
    id: c.id,
    files: c.files,
    tenants: c.tenants,
    validation: c.validation ? 'on' : 'off',
    ...(c.only ? { only: c.only } : {}),
    runs: runs.length,
    wallMs: pick((r) => r.wallMs),
    wallMsRuns: runs.map((r) => round(r.wallMs, 1)),
    importMs: pick((r) => r.child.importMs),
    constructMs: pick((r) => r.child.constructMs),
    synthMs: pick((r) => r.child.synthMs),
    maxRssMb: runs.length ? round(Math.max(...runs.map((r) => r.child.maxRssKb)) / 1024, 1) : null,
    ...extra,
  };
}

/** Estimated wall time of a validation-on synth of 100 tenants, from the 1- and 10-tenant runs. */
function estimate100(t1: number, t10: number): number {
  return t10 + ((t10 - t1) / 9) * 90;
}

export async function benchSynth(opts: { runs?: number; log?: (s: string) => void } = {}): Promise<SynthResults> {
  const runs = Math.max(1, opts.runs ?? 2);
  const log = opts.log ?? (() => {});
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-synth-'));
  try {
    const dirs = new Map<number, string>([1, 10, 100, 1000].map((n) => [n, tenantsFolder(root, n)]));
    const cfg = (files: number, validation: boolean, only?: string): SynthConfig => ({
      id: `${only ? 'only-' : ''}${files}-${validation ? 'on' : 'off'}`,
      files,
      tenants: only ? 1 : files,
      validation,
      ...(only ? { only } : {}),
    });
    const main: SynthConfig[] = [
      cfg(1, false),
      cfg(10, false),
      cfg(100, false),
      cfg(1, false, tenantId(1)),
      cfg(1000, false, tenantId(1)),
      cfg(1, true),
      cfg(10, true),
    ];
    const results = new Map<string, OneRun[]>(main.map((c) => [c.id, []]));
    const errors = new Map<string, string>();
    // Repetitions are interleaved (all configs, then all again) so drift on the machine hits every config alike.
    for (let rep = 0; rep < runs; rep++) {
      for (const c of main) {
        if (errors.has(c.id)) continue;
        try {
          const r = await runOnce(root, dirs.get(c.files)!, c, rep);
          results.get(c.id)!.push(r);
          log(`  synth ${c.id.padEnd(14)} run ${rep + 1}/${runs}: ${round(r.wallMs / 1000, 2)} s`);
        } catch (e) {
          errors.set(c.id, (e as Error).message);
          log(`  synth ${c.id} FAILED: ${(e as Error).message}`);
        }
      }
    }

    const measurements = main.map((c) =>
      summarize(c, results.get(c.id)!, errors.has(c.id) ? { error: errors.get(c.id) } : {}),
    );
    const byId = (id: string) => measurements.find((m) => m.id === id);

    // 100 tenants with validation on: run it only when the 1/10 runs say it fits the time budget.
    const on100 = cfg(100, true);
    const t1on = byId('1-on')?.wallMs;
    const t10on = byId('10-on')?.wallMs;
    const est = t1on != null && t10on != null ? estimate100(t1on, t10on) : null;
    if (est === null) {
      measurements.push(summarize(on100, [], { skipped: 'the 1- and 10-tenant validation-on runs failed' }));
    } else if (est > 180_000) {
      measurements.push(
        summarize(on100, [], {
          skipped: `estimated ${round(est / 1000, 0)} s from the 1/10-tenant runs (> 180 s budget)`,
        }),
      );
    } else {
      const n = est > 90_000 ? 1 : runs;
      const got: OneRun[] = [];
      let error: string | undefined;
      for (let rep = 0; rep < n && !error; rep++) {
        try {
          const r = await runOnce(root, dirs.get(100)!, on100, rep);
          got.push(r);
          log(`  synth ${on100.id.padEnd(14)} run ${rep + 1}/${n}: ${round(r.wallMs / 1000, 2)} s`);
        } catch (e) {
          error = (e as Error).message;
          log(`  synth ${on100.id} FAILED: ${error}`);
        }
      }
      measurements.push(summarize(on100, got, error ? { error } : {}));
    }

    const wall = (id: string) => byId(id)?.wallMs ?? null;
    const marginal = (a: number | null, b: number | null) => (a !== null && b !== null ? round((b - a) / 90, 1) : null);
    const marginalOff = marginal(wall('10-off'), wall('100-off'));
    const marginalOn = marginal(wall('10-on'), wall('100-on'));
    const only1 = wall('only-1-off');
    const only1000 = wall('only-1000-off');
    const onlyRatio = only1 !== null && only1000 !== null ? round(only1000 / only1, 3) : null;

    const w100 = wall('100-off');
    const checks: Check[] = [
      atMost('synth.100.off', 'Synth 100 tenants, validation off (wall)', w100, 10_000, 'ms', '≤ 10 s'),
      atMost(
        'synth.marginal.off',
        'Synth marginal cost per extra tenant, off ((t100−t10)/90)',
        marginalOff,
        80,
        'ms',
        '≤ 80 ms',
      ),
      atMost('synth.only.ratio', '-c tenant=<id>: 1000 files vs 1 file (wall ratio)', onlyRatio, 1.3, '×', '≤ 1.3×'),
    ];
    return {
      runsPerConfig: runs,
      measurements,
      marginalMsPerTenantOff: marginalOff,
      marginalMsPerTenantOn: marginalOn,
      onlyRatio,
      checks,
    };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
