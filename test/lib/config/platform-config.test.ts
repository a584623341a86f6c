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

describe('platform configuration: poolCells', () => {
  it('defaults to one cell, pool-1, and keeps a longer list in its order', () => {
    expect(resolvePlatformConfig(BASE).poolCells).toEqual(['pool-1']);
    expect(resolvePlatformConfig({ ...BASE, poolCells: ['pool-2', 'pool-1'] }).poolCells).toEqual(['pool-2', 'pool-1']);
  });

  it('fails on an entry that is not pool-<n>, naming the entry and what is allowed', () => {
    expect(problemsOf({ ...BASE, poolCells: ['pool-1', 'cell-2', 'pool-01'] })).toEqual([
      expect.stringMatching(/^cdk\.json context "switchboard": poolCells\.1: must be a pool cell id: "pool-<n>"/),
      expect.stringMatching(/^cdk\.json context "switchboard": poolCells\.2: must be a pool cell id: "pool-<n>"/),
    ]);
  });

  it('fails on an empty list and on a cell listed twice', () => {
    expect(problemsOf({ ...BASE, poolCells: [] })).toEqual([
      expect.stringMatching(/^cdk\.json context "switchboard": poolCells: /),
    ]);
    expect(problemsOf({ ...BASE, poolCells: ['pool-1', 'pool-1'] })).toEqual([
      'cdk.json context "switchboard": poolCells: "pool-1" is listed twice; each cell is one stack',
    ]);
  });
});
