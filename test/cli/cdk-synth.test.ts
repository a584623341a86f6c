/**
 * The platform team's commands, run for real: `npx cdk synth` through the pinned CDK CLI, with the
 * built-in CloudFormation validation on, exactly as the README says.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, tenantDir } from '../support/synth';

const run = promisify(execFile);
const CDK = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');

async function cdkSynth(args: string[]) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-cli-'));
  try {
    const r = await run(CDK, ['synth', '--quiet', '-o', out, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_VALIDATION: 'true' },
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, out, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('npx cdk synth', () => {
  it('writes every stack, the compliance report, and passes compliance and CloudFormation validation', async () => {
    const r = await cdkSynth([]);
    expect(r.stderr).not.toMatch(/ERROR|WARN.*AwsSolutions/);
    expect(r.code).toBe(0);
    const files = fs.readdirSync(r.out);
    for (const s of ['Platform', 'ControlPlane', 'Pool-1', 'Tenant-acme', 'Tenant-globex', 'Tenant-initech']) {
      expect(files).toContain(`Switchboard-${s}.template.json`);
    }
    // The sample pooled tenants (hooli, umbrella) have no stack of their own.
    expect(files.filter((f) => /^Switchboard-Tenant-(hooli|umbrella)\./.test(f))).toEqual([]);
    const report = JSON.parse(fs.readFileSync(path.join(r.out, 'compliance-report.json'), 'utf8'));
    expect(report.totals.findings).toBe(0);
    expect(fs.readFileSync(path.join(r.out, 'compliance-report.md'), 'utf8')).toContain(
      '# Switchboard compliance report',
    );
    const validation = JSON.parse(fs.readFileSync(path.join(r.out, 'validation-report.json'), 'utf8'));
    expect(validation.pluginReports.filter((p: { conclusion: string }) => p.conclusion !== 'success')).toEqual([]);
  }, 180_000);

  it('builds only the named tenant with -c tenant=<id> (and the platform it needs)', async () => {
    const r = await cdkSynth(['-c', 'tenant=globex']);
    expect(r.code).toBe(0);
    const stacks = Object.entries(JSON.parse(fs.readFileSync(path.join(r.out, 'manifest.json'), 'utf8')).artifacts)
      .filter(([, a]) => (a as { type: string }).type === 'aws:cloudformation:stack')
      .map(([id]) => id)
      .sort();
    expect(stacks).toEqual(['Switchboard-Platform', 'Switchboard-Tenant-globex']);
  }, 180_000);

  it('refuses -c tenant=<pooled id> with one readable line: pooled tenants have no stack', async () => {
    const r = await cdkSynth(['-c', 'tenant=hooli']);
    expect(r.code).not.toBe(0);
    const shown = `${r.stdout}\n${r.stderr}`;
    expect(shown).toMatch(/-c tenant=hooli: hooli is a pooled tenant \(isolation: pool\): it has no stack of its own/);
    expect(shown).not.toMatch(/at .*\.ts:\d+:\d+/);
  }, 180_000);

  it('fails on a bad tenant file with one readable line per problem and no stack trace', async () => {
    const dir = tenantDir({ shop: 'id: shop\nplan: gold\nmonthlyBudgetUsd: -1\n' });
    const r = await cdkSynth(['-c', `tenantsDir=${dir}`]);
    expect(r.code).not.toBe(0);
    const shown = `${r.stdout}\n${r.stderr}`;
    expect(shown).toMatch(/shop\.yaml: plan: got "gold"; allowed: "basic" \| "standard" \| "premium"/);
    expect(shown).toMatch(/shop\.yaml: monthlyBudgetUsd: got -1; must be at least 0/);
    expect(shown).not.toMatch(/at .*\.ts:\d+:\d+/);
  }, 180_000);
});
