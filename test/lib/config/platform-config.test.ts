import { PlatformConfigError, resolvePlatformConfig } from '../../../lib/config/platform-config';

const BASE = { opsEmails: ['oncall@example.com'] };

/** The problems a platform configuration is refused with (fails the test when it is accepted). */
function problemsOf(input: unknown): readonly string[] {
  try {
    resolvePlatformConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(PlatformConfigError);
    return (e as PlatformConfigError).problems;
  }
  throw new Error('accepted');
}

describe('platform configuration: systemPreamble', () => {
  it('is optional and kept as written', () => {
    expect(resolvePlatformConfig(BASE).systemPreamble).toBeUndefined();
    expect(resolvePlatformConfig({ ...BASE, systemPreamble: 'Answer in plain text.' }).systemPreamble).toBe(
      'Answer in plain text.',
    );
  });

  it('fails when it is empty or longer than the function environment can carry (1,000 UTF-8 bytes)', () => {
    expect(problemsOf({ ...BASE, systemPreamble: '' })).toEqual([
      expect.stringMatching(/^cdk\.json context "switchboard": systemPreamble: /),
    ]);
    expect(problemsOf({ ...BASE, systemPreamble: '€'.repeat(400) })).toEqual([
      'cdk.json context "switchboard": systemPreamble: 1200 bytes in UTF-8; at most 1000 (it travels in every inference function\'s environment, which Lambda limits to 4 KB)',
    ]);
  });
});
