/**
 * The inference bundle: its size (and what fills it), and its cold import time in fresh Node processes
 * compared with the same handler unbundled (transpiled file by file, SDK loaded from node_modules) and
 * with an empty handler.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { parseTenantFile } from '../lib/config/load-tenants';
import { toRuntimeConfig } from '../lib/config/runtime-config';
import { bundleHandler, PROJECT_ROOT } from '../lib/constructs/bundling';
import { atMost, type Check, childEnv, median, round, runChild } from './stats';
import { minimalTenantFile } from './tenant-file';

/** The tenant the handler benchmarks run as. */
const BENCH_TENANT_ID = 't0001';

/** `TENANT_CONFIG` for a minimal standard-plan tenant, built the way the CDK app builds it. */
function benchTenantConfig(): string {
  const r = parseTenantFile(`${BENCH_TENANT_ID}.yaml`, minimalTenantFile(BENCH_TENANT_ID));
  if (!r.tenant) throw new Error(`bench tenant is invalid: ${r.problems.join('; ')}`);
  return JSON.stringify(toRuntimeConfig(r.tenant));
}

/** Environment the handler needs at init (dummy credentials; endpoints are only used per request). */
export function handlerEnv(endpoints: { bedrock: string; dynamodb: string }, tableName: string) {
  return {
    TENANT_CONFIG: benchTenantConfig(),
    LEDGER_TABLE_NAME: tableName,
    // The guardrail every call applies (GUARDRAIL_ENV); the stand-in accepts any.
    GUARDRAIL_ARN: 'arn:aws:bedrock:us-east-1:111111111111:guardrail/benchguardrail',
    GUARDRAIL_VERSION: '1',
    // Never started in the benchmark (its answers are sure), but the handler reads it at init.
    REVIEW_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:111111111111:stateMachine:switchboard-bench-review',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: endpoints.bedrock,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export interface BundleSize {
  readonly file: string;
  readonly bytes: number;
  readonly topInputs: Array<{ path: string; bytesInOutput: number }>;
  readonly topPackages: Array<{ name: string; bytesInOutput: number }>;
  readonly checks: Check[];
}

/** The package an input path belongs to (`@scope/name`, `name`) or `(project)`. */
function packageOf(input: string): string {
  const i = input.lastIndexOf('node_modules/');
  if (i < 0) return '(project)';
  const parts = input.slice(i + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

export function benchBundleSize(): BundleSize {
  const b = bundleHandler('inference');
  const outputs = Object.values(b.metafile.outputs);
  const inputs = new Map<string, number>();
  for (const o of outputs) {
    for (const [p, v] of Object.entries(o.inputs)) inputs.set(p, (inputs.get(p) ?? 0) + v.bytesInOutput);
  }
  const sorted = [...inputs.entries()].sort((a, z) => z[1] - a[1]);
  const packages = new Map<string, number>();
  for (const [p, n] of sorted) packages.set(packageOf(p), (packages.get(packageOf(p)) ?? 0) + n);
  return {
    file: path.relative(PROJECT_ROOT, b.file),
    bytes: b.bytes,
    topInputs: sorted.slice(0, 5).map(([p, n]) => ({ path: p, bytesInOutput: n })),
    topPackages: [...packages.entries()]
      .sort((a, z) => z[1] - a[1])
      .slice(0, 5)
      .map(([name, n]) => ({ name, bytesInOutput: n })),
    checks: [
      atMost(
        'bundle.bytes',
        'Inference bundle size (minified)',
        round(b.bytes / 1024, 1),
        400,
        'KiB',
        '≤ 400 KiB',
        `${b.bytes} bytes`,
      ),
    ],
  };
}

/** The figures of one handler variant over fresh processes. */
export interface ImportVariant {
  readonly variant: 'bundle' | 'unbundled' | 'empty';
  readonly file: string;
  /** Time spent in `require(file)` (module load and handler init), median ms. */
  readonly requireMs: number;
  readonly requireMsRuns: number[];
  /** Spawn to exit of the whole process, median ms. */
  readonly processMs: number;
  readonly processMsRuns: number[];
}

export interface ColdImport {
  readonly runs: number;
  readonly variants: ImportVariant[];
  readonly ratioBundleToUnbundled: number;
  readonly bundleMinusEmptyMs: number;
  readonly bundleMinusEmptyProcessMs: number;
  readonly checks: Check[];
}

/** Loads one handler file and reports how long `require` took (run with plain `node`, no loaders). */
const PROBE = `'use strict';
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const mod = require(process.argv[2]);
const t1 = performance.now();
if (typeof mod.handler !== 'function') throw new Error('no handler export in ' + process.argv[2]);
process.stdout.write('\\n' + JSON.stringify({ requireMs: t1 - t0 }) + '\\n');
`;

const EMPTY_HANDLER = `'use strict';
exports.handler = async () => ({ statusCode: 200, body: '' });
`;

/** Transpiles every `lambda/**\/*.ts` to CommonJS next to each other (no bundling) under `outdir`. */
function transpileUnbundled(outdir: string): string {
  const src = path.join(PROJECT_ROOT, 'lambda');
  const entries = (fs.readdirSync(src, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(src, f));
  buildSync({
    entryPoints: entries,
    outdir: path.join(outdir, 'lambda'),
    outbase: src,
    bundle: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'silent',
  });
  // Data files the handlers import (the router model) are copied next to the transpiled modules.
  for (const f of fs.readdirSync(src, { recursive: true }) as string[]) {
    if (!f.endsWith('.json')) continue;
    fs.mkdirSync(path.dirname(path.join(outdir, 'lambda', f)), { recursive: true });
    fs.copyFileSync(path.join(src, f), path.join(outdir, 'lambda', f));
  }
  return path.join(outdir, 'lambda', 'inference', 'index.js');
}

export async function benchColdImport(opts: { runs?: number; log?: (s: string) => void } = {}): Promise<ColdImport> {
  const runs = Math.max(1, opts.runs ?? 5);
  const log = opts.log ?? (() => {});
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-import-'));
  try {
    const probe = path.join(tmp, 'probe.js');
    fs.writeFileSync(probe, PROBE);
    const empty = path.join(tmp, 'empty', 'index.js');
    fs.mkdirSync(path.dirname(empty));
    fs.writeFileSync(empty, EMPTY_HANDLER);
    const files = {
      bundle: bundleHandler('inference').file,
      unbundled: transpileUnbundled(tmp),
      empty,
    } as const;
    // The unbundled copy lives in the temp folder; bare imports (@aws-sdk/*, zod) resolve through NODE_PATH
    // to the project's node_modules. Every variant gets the same environment.
    const env = childEnv({
      ...handlerEnv({ bedrock: 'http://127.0.0.1:9', dynamodb: 'http://127.0.0.1:9' }, 'bench-ledger'),
      NODE_PATH: path.join(PROJECT_ROOT, 'node_modules'),
    });
    const order = ['bundle', 'unbundled', 'empty'] as const;
    const samples = new Map<string, { req: number[]; proc: number[] }>(order.map((v) => [v, { req: [], proc: [] }]));
    // One discarded round warms the file-system cache; then rounds alternate the variants.
    for (let rep = -1; rep < runs; rep++) {
      for (const v of order) {
        const r = await runChild(process.execPath, [probe, files[v]], { cwd: tmp, env, timeoutMs: 60_000 });
        if (r.code !== 0) throw new Error(`cold import of ${v} failed (${r.code}): ${r.stderr.trim().slice(-2000)}`);
        const last = r.stdout.trim().split('\n').pop() ?? '';
        const { requireMs } = JSON.parse(last) as { requireMs: number };
        if (rep < 0) continue;
        samples.get(v)!.req.push(requireMs);
        samples.get(v)!.proc.push(r.wallMs);
      }
      if (rep >= 0) log(`  cold import round ${rep + 1}/${runs} done`);
    }
    const variants: ImportVariant[] = order.map((v) => {
      const s = samples.get(v)!;
      return {
        variant: v,
        file: v === 'bundle' ? path.relative(PROJECT_ROOT, files[v]) : `<tmp>/${path.relative(tmp, files[v])}`,
        requireMs: round(median(s.req), 2),
        requireMsRuns: s.req.map((x) => round(x, 2)),
        processMs: round(median(s.proc), 1),
        processMsRuns: s.proc.map((x) => round(x, 1)),
      };
    });
    const get = (v: string) => variants.find((x) => x.variant === v)!;
    const ratio = round(get('bundle').requireMs / get('unbundled').requireMs, 3);
    const diff = round(get('bundle').requireMs - get('empty').requireMs, 1);
    const diffProc = round(get('bundle').processMs - get('empty').processMs, 1);
    return {
      runs,
      variants,
      ratioBundleToUnbundled: ratio,
      bundleMinusEmptyMs: diff,
      bundleMinusEmptyProcessMs: diffProc,
      checks: [
        atMost(
          'import.ratio',
          'Cold import: bundle / unbundled (require time)',
          ratio,
          0.35,
          '×',
          '≤ 0.35×',
          `bundle ${get('bundle').requireMs} ms vs unbundled ${get('unbundled').requireMs} ms`,
        ),
        atMost(
          'import.overhead',
          'Cold import: bundle − empty handler (require time)',
          diff,
          110,
          'ms',
          '≤ 110 ms',
          `whole process: bundle − empty = ${diffProc} ms`,
        ),
      ],
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
