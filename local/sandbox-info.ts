/**
 * What a running sandbox (`npm start`) tells its users, and writes to `.switchboard/sandbox.json`: every tenant's
 * API (URL and API key), the control plane API and the token it accepts (a bearer header in place of SigV4), and the
 * review console.
 */
export interface SandboxTenant {
  readonly id: string;
  readonly isolation: 'silo' | 'pool';
  /** Base URL of the tenant's API (the pool cell's API for a pooled tenant), without a trailing slash. */
  readonly url: string;
  /** The tenant's API key (the `x-api-key` header). */
  readonly apiKey: string;
  /** The default tier and its model, e.g. `fast: us.amazon.nova-micro-v1:0` (shown in the table). */
  readonly model?: string;
}

export interface SandboxInfo {
  readonly tenants: readonly SandboxTenant[];
  /** The control plane API; IAM-authorized routes accept `Authorization: Bearer <token>` locally. */
  readonly controlPlane: { readonly url: string; readonly token: string };
  readonly reviewConsole: { readonly url: string };
}

/** Options of a sandbox. */
export interface SandboxOptions {
  /** Where the sandbox keeps its data (tables, keys, token, sandbox.json): `.switchboard/` for `npm start`. */
  readonly dataDir: string;
  /** Start with empty tables (the data of an earlier run is removed). */
  readonly fresh?: boolean;
  /** The base port: the review console; the control plane, pool cells and tenant APIs on the next ports. */
  readonly port?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** The cloud assembly to run (default: `cdk.out` of the repository, synthesized when stale). */
  readonly outdir?: string;
}

/** A running sandbox. */
export interface RunningSandbox {
  readonly info: SandboxInfo;
  /** Runs every housekeeping schedule's targets once now (they also run on their own schedule). */
  runSchedules(): Promise<ScheduleRun[]>;
  /** Stops every server and worker (within 5 s). */
  stop(): Promise<void>;
}

/** One scheduled target's run. */
export interface ScheduleRun {
  /** `<stack>/<rule logical id>`. */
  readonly rule: string;
  /** The function's logical id. */
  readonly target: string;
  readonly ok: boolean;
  readonly error?: string;
}

/** The default base port of `npm start`. */
export const DEFAULT_PORT = 4010;
