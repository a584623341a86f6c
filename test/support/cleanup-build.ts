/** Removes the temp folder this test file's handler bundles were written to (set in setup-env.ts). */
import * as fs from 'node:fs';
import * as os from 'node:os';

afterAll(() => {
  const dir = process.env.SWITCHBOARD_BUILD_DIR;
  if (dir?.startsWith(os.tmpdir())) fs.rmSync(dir, { recursive: true, force: true });
});
