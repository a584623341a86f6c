import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ReviewRuntimeConfigSchema } from '../../../lambda/shared/review-schema';
import { TenantRuntimeConfigSchema } from '../../../lambda/shared/tenant-runtime';
import {
  PLANS,
  QUOTA_PERIODS,
  ROUTING_MODES,
  TENANT_ID_PATTERN,
  TIMEOUT_POLICIES,
} from '../../../lambda/shared/tenant-vocabulary';
import { TenantFileSchema } from '../../../lib/config/tenant-schema';

const ROOT = path.resolve(__dirname, '../../..');
const DEFINED_IN = 'lambda/shared/tenant-vocabulary.ts';

/** Tracked TypeScript files of the app, the constructs, the handlers and the scripts. */
function sources(): string[] {
  return execFileSync('git', ['ls-files', '--', 'bin', 'lib', 'lambda', 'scripts', 'bench'], { cwd: ROOT })
    .toString()
    .split('\n')
    .filter((f) => f.endsWith('.ts'));
}

/** Files (other than the vocabulary's own) where two words of a list stand side by side in a list or a union. */
function filesListing(words: readonly string[]): string[] {
  const word = `(['"\`])(?:${words.join('|')})\\1`;
  const list = new RegExp(`${word}\\s*[,|]\\s*${word.replace('\\1', '\\2')}`);
  return sources().filter((f) => f !== DEFINED_IN && list.test(readFileSync(path.join(ROOT, f), 'utf8')));
}

describe('tenant vocabulary', () => {
  it.each([
    ['plans', PLANS],
    ['quota periods', QUOTA_PERIODS],
    ['timeout policies', TIMEOUT_POLICIES],
    ['routing modes', ROUTING_MODES],
  ])('writes the %s once, in lambda/shared', (_name, words) => {
    expect(filesListing(words)).toEqual([]);
  });

  it('writes the tenant id pattern once, in lambda/shared', () => {
    const copy = /\[a-z0-9-\]\{(?:1,30|3,32)\}/;
    const copies = sources().filter((f) => f !== DEFINED_IN && copy.test(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(copies).toEqual([]);
  });

  it('is what the tenant file, the runtime config and the review config accept', () => {
    const file = TenantFileSchema.shape;
    expect(file.plan.options).toEqual([...PLANS]);
    const runtime = TenantRuntimeConfigSchema.shape;
    expect(runtime.plan.options).toEqual([...PLANS]);
    expect(runtime.routing.shape.mode.options).toEqual([...ROUTING_MODES]);
    expect(ReviewRuntimeConfigSchema.shape.onTimeout.options).toEqual([...TIMEOUT_POLICIES]);
  });

  it.each(['acme', 'a-b', 'a1b2c3', 'x'.repeat(32), '-acme', 'acme-', 'ab', 'x'.repeat(33), '---', 'Acme', 'ac_me'])(
    'the runtime config takes tenant id %j exactly when a tenant file does',
    (id) => {
      const inFile = TenantFileSchema.shape.id.safeParse(id).success;
      const atRuntime = TenantRuntimeConfigSchema.shape.tenantId.safeParse(id).success;
      expect(atRuntime).toBe(inFile);
      expect(inFile).toBe(TENANT_ID_PATTERN.test(id));
    },
  );
});
