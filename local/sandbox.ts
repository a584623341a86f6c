/**
 * The whole platform on loopback (`npm start`, scripts/start.ts); see startSandbox.
 */
import type { RunningSandbox, SandboxOptions } from './sandbox-info';

export type { RunningSandbox, SandboxInfo, SandboxOptions, SandboxTenant } from './sandbox-info';

/** Starts the sandbox; resolves when every API answers. (Being written: see the sandbox branch.) */
export async function startSandbox(opts: SandboxOptions): Promise<RunningSandbox> {
  throw new Error(`startSandbox is not ready yet (${opts.dataDir})`);
}
