/**
 * Commands the README tells people to run: the deploy commands must do what the text says they do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
/** Lines inside fenced code blocks (fences may be indented inside list items). */
const commands: string[] = [];
let inFence = false;
for (const line of README.split('\n')) {
  if (/^\s*```/.test(line)) inFence = !inFence;
  else if (inFence) commands.push(line);
}

describe('README commands', () => {
  it('deploys a tenant stack exclusively: the CLI would otherwise deploy the platform stack it depends on too', () => {
    const tenantDeploys = commands.filter((l) => /cdk deploy\b.*Switchboard-Tenant-/.test(l));
    expect(tenantDeploys.length).toBeGreaterThan(0);
    for (const line of tenantDeploys) expect(line).toMatch(/\s(--exclusively|-e)\s/);
    // Inline mentions in the text follow the same rule.
    for (const [m] of README.matchAll(/`[^`]*cdk deploy[^`]*Switchboard-Tenant-[^`]*`/g)) {
      expect(m).toMatch(/\s(--exclusively|-e)\s/);
    }
  });

  it('documents every platform setting cdk.json holds', () => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
    for (const key of Object.keys(cdkJson.context.switchboard)) expect(README).toContain(`\`${key}\``);
  });
});
