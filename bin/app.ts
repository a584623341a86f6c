#!/usr/bin/env node
/**
 * The Switchboard CDK app: the only place that reads context and environment. It loads the tenant files,
 * builds the platform stack and one stack per tenant (or only `-c tenant=<id>`), and registers the
 * compliance checks that write the compliance report and fail synth on unacknowledged findings.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { PLATFORM_CONTEXT_KEY, resolvePlatformConfig } from '../lib/config/platform-config';
import { buildSwitchboard } from '../lib/switchboard';

const app = new App();
const ctx = (k: string) => app.node.tryGetContext(k) as string | undefined;
try {
  const platform = app.node.tryGetContext(PLATFORM_CONTEXT_KEY) as unknown;
  buildSwitchboard(app, {
    // `-c switchboard='{...}'` arrives as a string.
    platform: resolvePlatformConfig(typeof platform === 'string' ? JSON.parse(platform) : platform),
    tenantsDir: path.resolve(ctx('tenantsDir') ?? path.join(__dirname, '..', 'tenants')),
    only: ctx('tenant'),
    env: {
      account: ctx('account') ?? process.env.CDK_DEFAULT_ACCOUNT,
      region: ctx('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
    },
  });
} catch (e) {
  // A bad tenant file, platform setting or a fleet over quota is a user error: print the problems, no stack trace.
  if (['TenantConfigError', 'PlatformConfigError', 'CapacityError'].includes((e as Error).name)) {
    console.error((e as Error).message);
    process.exit(1);
  }
  throw e;
}
