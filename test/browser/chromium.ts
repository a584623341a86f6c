/**
 * The Chromium the browser tests drive (Debian's `chromium`, which .ci/run installs): `CHROMIUM_PATH` when set,
 * else `chromium` on the PATH. Without one, a browser test file is skipped and says why (on stderr and in its name).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : undefined;
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    return found && fs.existsSync(found) ? found : undefined;
  } catch {
    return undefined; // not on the PATH
  }
}

/** The executable, or undefined when there is none. */
export const CHROMIUM = chromiumPath();

/** Launch arguments for headless Chromium as root in a container (no sandbox, no GPU, /tmp for shared memory). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];

/** `describe` when Chromium exists; otherwise `describe.skip` under a name that says what is missing. */
export function describeWithChromium(name: string, fn: () => void): void {
  if (CHROMIUM) {
    describe(name, fn);
    return;
  }
  const skipped = `${name}: SKIPPED, no Chromium executable (install Debian's chromium, as .ci/run does, or set CHROMIUM_PATH)`;
  process.stderr.write(`${skipped}\n`);
  describe.skip(skipped, fn);
}
