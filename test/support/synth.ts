/**
 * Synthesizes the real Switchboard app (the same `buildSwitchboard` that bin/app.ts calls) into a temp
 * folder, for template tests and for end-to-end tests that run the bundle CDK packaged.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { PLATFORM_CONTEXT_KEY, type PlatformConfig, resolvePlatformConfig } from '../../lib/config/platform-config';
import { buildSwitchboard, type SwitchboardApp } from '../../lib/switchboard';
import type { TemplateJson } from './dynalite-server';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const REPO_TENANTS = path.join(REPO_ROOT, 'tenants');

/** Writes tenant files (`{ id: yamlText }`) into a fresh temp folder and returns it. */
export function tenantDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tenants-'));
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name.includes('.') ? name : `${name}.yaml`), text);
  }
  return dir;
}

/** The context of the repository's `cdk.json`: feature flags and the platform settings. */
export function repoContext(): Record<string, unknown> {
  return (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
    .context;
}

/** The platform configuration of the repository's `cdk.json` (what `npx cdk synth` uses). */
export function repoPlatformConfig(): PlatformConfig {
  return resolvePlatformConfig(repoContext()[PLATFORM_CONTEXT_KEY]);
}

export interface Synthesized {
  readonly app: App;
  readonly built: SwitchboardApp;
  readonly assembly: CloudAssembly;
  readonly outdir: string;
  template(stackName: string): TemplateJson;
}

/** Builds and synthesizes the app. Built-in CloudFormation validation is off (a unit-test speed choice). */
export function synthSwitchboard(
  opts: { tenantsDir?: string; only?: string; compliance?: boolean; platform?: Partial<PlatformConfig> } = {},
): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-cdkout-'));
  // Asset metadata (aws:asset:path) is what the CLI enables; tests use it to find the packaged handler.
  // The context of cdk.json (feature flags included: weak cross-stack references, explicit stack tags, ...), so
  // tests synthesize what `cdk synth` does.
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { ...repoContext(), 'aws:cdk:enable-asset-metadata': true },
  });
  const built = buildSwitchboard(app, {
    platform: { ...repoPlatformConfig(), ...opts.platform },
    tenantsDir: opts.tenantsDir ?? REPO_TENANTS,
    only: opts.only,
    env: { region: 'us-east-1' },
    compliance: opts.compliance,
  });
  const assembly = app.synth();
  return {
    app,
    built,
    assembly,
    outdir,
    template: (name) => assembly.getStackByName(name).template as TemplateJson,
  };
}

/** Logical id of the only resource of `type` in a template whose id starts with `prefix`. */
export function logicalIdOf(template: TemplateJson, type: string, prefix = ''): string {
  const ids = Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length !== 1)
    throw new Error(`Expected one ${type} with prefix "${prefix}", found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}
