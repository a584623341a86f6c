/** Tests print nothing when they pass; a failing test shows the output it captured. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

it('keeps a passing test quiet and shows a failing test what the code under it wrote', () => {
  const root = path.resolve(__dirname, '..', '..');
  const run = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--rootDir',
      root,
      '--testMatch',
      '**/test/support/fixtures/quiet.fixture.ts',
      '--testPathIgnorePatterns',
      '/node_modules/',
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
  );
  const all = `${run.stdout}${run.stderr}`;
  expect(run.status).toBe(1);
  expect(all).not.toContain('written by a passing test');
  expect(all).toContain('written by a failing test');
  expect(all).toMatch(/output captured during "fails"/);
}, 60_000);
