/**
 * One synth in a fresh process, like `cdk synth` runs the app: `new App()`, `buildSwitchboard(...)`,
 * `app.synth()`. Run by bench/synth.ts through `node_modules/.bin/tsx`; it writes its own phase timings
 * and peak RSS as JSON to the file named by `--result`.
 *
 *   tsx bench/synth-child.ts --tenants <dir> --outdir <dir> --validation on|off [--only <id>] --result <file>
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { App } from 'aws-cdk-lib';
import { buildSwitchboard } from '../lib/switchboard';
import { repoPlatformConfig } from '../test/support/synth';

/** What the child reports. */
export interface SynthChildResult {
  /** From process start (performance.timeOrigin) to the end of synth: includes loading aws-cdk-lib. */
  readonly processMs: number;
  /** Module loading before the app is created. */
  readonly importMs: number;
  /** `buildSwitchboard` (constructs, tenant files, bundling). */
  readonly constructMs: number;
  /** `app.synth()` (validation plugins, templates, assets). */
  readonly synthMs: number;
  readonly stacks: number;
  /** Peak resident set size of this process, KiB. */
  readonly maxRssKb: number;
}

const importedAt = performance.now();

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function required(name: string): string {
  const v = arg(name);
  if (!v) throw new Error(`synth-child: missing --${name}`);
  return v;
}

const tenantsDir = required('tenants');
const outdir = required('outdir');
const validation = required('validation') === 'on';
const only = arg('only');
const resultFile = required('result');

const t0 = performance.now();
const app = new App({ outdir, builtinCloudFormationValidation: validation });
const built = buildSwitchboard(app, {
  platform: repoPlatformConfig(),
  tenantsDir,
  only,
  env: { region: 'us-east-1' },
});
const t1 = performance.now();
app.synth();
const t2 = performance.now();

const result: SynthChildResult = {
  processMs: t2,
  importMs: importedAt,
  constructMs: t1 - t0,
  synthMs: t2 - t1,
  stacks: built.tenants.size + 1,
  maxRssKb: process.resourceUsage().maxRSS,
};
fs.writeFileSync(resultFile, JSON.stringify(result));
