/**
 * Stable error codes of the Switchboard API, with the HTTP status each maps to. The API Gateway gateway
 * responses (lib/constructs/tenant-api) and the handlers both use this table, so a code never changes
 * status between the edge and the function.
 */
export const ERROR_CODES = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_key_reused: 409,
  request_in_progress: 409,
  review_decided: 409,
  review_expired: 409,
  review_not_ready: 409,
  payload_too_large: 413,
  prompt_too_large: 413,
  unsupported_media_type: 415,
  unknown_tier: 422,
  tier_not_allowed: 422,
  max_tokens_too_large: 422,
  throttled: 429,
  quota_exceeded: 429,
  budget_exceeded: 429,
  /** An answer needed human review but the tenant's open-review cap is reached (charged, not released). */
  review_queue_full: 429,
  /** An answer needed human review but the tenant's hourly review cap is reached (charged, not released). */
  review_rate_exceeded: 429,
  internal_error: 500,
  model_error: 502,
  review_failed: 502,
  model_unavailable: 503,
  ledger_unavailable: 503,
  gateway_timeout: 504,
  model_timeout: 504,
  // Control plane (lambda/control-plane).
  /** A tenant document breaks the tenant file schema or its rules (the message names every field). */
  invalid_tenant: 422,
  /** A silo tenant sent to `POST /v1/tenants`: silo tenants are added by a tenant file and a deploy. */
  silo_tenant: 422,
  /** The tenant id is taken (ids are never reused). */
  tenant_exists: 409,
  /** The tenant was offboarded; it cannot be changed or offboarded again. */
  tenant_deleted: 409,
  /** The tenant changed between the read and the write of this call; read it again and retry. */
  tenant_changed: 409,
  /** `POST /v1/tenants/{id}/move` with `{"to": "pool"}` for a tenant that is pooled already. */
  already_pooled: 409,
  /** Every pool cell is full: a new cell must be configured and deployed. */
  pool_full: 503,
  /**
   * The tenant's file says `offboarding.data: delete`, but its cell's ledger or tenant-access role is not in
   * `POOL_CELLS`: nothing is written (the key stays; suspend the tenant to refuse it at once).
   */
  purge_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A domain error: a stable `code`, an actionable message and, for 429/503, how many seconds to wait before
 * retrying. The cores throw it; the HTTP layer (`lambda/shared/http`) turns it into the error envelope.
 * `requestId` is the ledger's id of a request the error happened to after it was accepted (the envelope
 * carries it instead of the gateway's). `status` is what the code maps to in `ERROR_CODES`.
 */
export class DomainError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'DomainError';
    this.status = ERROR_CODES[code];
  }
}

/** A `DomainError` raised by an HTTP adapter itself, with extra response headers (e.g. `Allow`). */
export class ApiError extends DomainError {
  constructor(
    code: ErrorCode,
    message: string,
    retryAfterSeconds?: number,
    /** Extra headers for the response (e.g. `Allow`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message, retryAfterSeconds);
    this.name = 'ApiError';
  }
}

/** The error envelope every non-2xx response carries. */
export interface ErrorEnvelope {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly requestId: string };
}
