/** Small helpers shared by the benchmarks: statistics, targets and formatting. No absolute-time gating. */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** One issue target compared with what was measured (reported, never enforced). */
export interface Check {
  readonly id: string;
  readonly label: string;
  /** Human-readable target, e.g. `≤ 10 s`. */
  readonly target: string;
  readonly limit: number;
  /** `null` when the measurement was skipped or failed. */
  readonly measured: number | null;
  readonly unit: string;
  /** `null` when not measured. */
  readonly met: boolean | null;
  readonly note?: string;
}

/** A "lower is better" check against `limit`. */
export function atMost(
  id: string,
  label: string,
  measured: number | null,
  limit: number,
  unit: string,
  target: string,
  note?: string,
): Check {
  return {
    id,
    label,
    target,
    limit,
    measured,
    unit,
    met: measured === null || !Number.isFinite(measured) ? null : measured <= limit,
    ...(note ? { note } : {}),
  };
}

/** A "higher is better" check against `limit`. */
export function atLeast(
  id: string,
  label: string,
  measured: number | null,
  limit: number,
  unit: string,
  target: string,
  note?: string,
): Check {
  return {
    ...atMost(id, label, measured, limit, unit, target, note),
    met: measured === null || !Number.isFinite(measured) ? null : measured >= limit,
  };
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile (p in 0..100); NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  if (p <= 0) return s[0]!;
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, rank) - 1]!;
}

/** Median for odd counts, mean of the middle two for even counts (what "median of 2 runs" means). */
export function midpoint(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(n: number, digits = 1): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A finished child process. */
export interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Spawn to exit, ms. */
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion and measures its wall time; output is collected, not echoed. */
export function runChild(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        wallMs,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** The environment for benchmark children: the parent's, minus anything that would inject loaders or flags. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.CDK_VALIDATION;
  delete env.CDK_CONTEXT_JSON;
  delete env.CDK_OUTDIR;
  return { ...env, ...extra };
}

/** Renders rows as a fixed-width text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Formats a number with a unit for tables. */
export function fmt(n: number | null | undefined, unit: string, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return `${round(n, digits).toLocaleString('en-US')} ${unit}`.trim();
}
