/**
 * The control plane function as the provider of the CloudFormation custom resource {@link SILO_REGISTRATION}
 * (one per silo tenant file, in the control plane stack): Create / Update / Delete events in, an answer PUT to the
 * event's pre-signed ResponseURL out, as "Custom resource response objects" documents
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html): `Status` SUCCESS |
 * FAILED, `Reason` (required with FAILED), `PhysicalResourceId` (non-empty, at most 1 KB, the same for every answer
 * about one resource: a different one on Update means a replacement, and CloudFormation then deletes the old),
 * `StackId`, `RequestId` and `LogicalResourceId` copied from the request, optional `Data`; the body at most 4096
 * bytes. A stack never hangs on us: every failure, a bad document included (its validation messages are the
 * reason), is answered FAILED.
 *
 * Every input is hostile: the event is checked with a schema, the document is bounded before it is parsed, and the
 * answer is PUT only to an `https` URL of an S3 host (CloudFormation's pre-signed URLs); loopback only when the
 * handler is built with `allowLoopbackResponseUrl` (tests).
 */
import { z } from 'zod';
import { DomainError } from '../../shared/errors';
import { SILO_REGISTRATION } from '../../shared/pool-runtime';
import type { Telemetry } from '../../shared/telemetry';
import { TENANT_ID_PATTERN } from '../../shared/tenant-vocabulary';
import { deregisterSiloTenant, registerSiloTenant, type SiloRegistrationDeps } from '../core/silo-registration';

/** Largest document accepted (a tenant file is a few KB), as for `POST /v1/tenants`. */
export const MAX_SILO_DOCUMENT_BYTES = 64 * 1024;
/** CloudFormation's limit on an answer's body. */
export const MAX_RESPONSE_BYTES = 4096;
/** Prefix of the physical ids of registered silo tenants: `switchboard-silo-tenant/<id>`. */
export const SILO_PHYSICAL_ID_PREFIX = 'switchboard-silo-tenant/';

const P = SILO_REGISTRATION.props;
const text = (max: number) => z.string().min(1).max(max);

/** A custom resource event of SILO_REGISTRATION (unknown fields are CloudFormation's to add, and ignored). */
export const SiloRegistrationEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  RequestId: text(256),
  ResponseURL: text(8192),
  ResourceType: z.literal(SILO_REGISTRATION.resourceType),
  LogicalResourceId: text(256),
  StackId: text(1024),
  PhysicalResourceId: text(1024).optional(),
  ResourceProperties: z.object({
    [P.tenantId]: z.string().regex(TENANT_ID_PATTERN),
    [P.document]: z.string().max(MAX_SILO_DOCUMENT_BYTES),
  }),
});

/** Whether an event is a CloudFormation custom resource event (and not an API Gateway proxy event). */
export function isCustomResourceEvent(event: unknown): event is Record<string, unknown> {
  const e = event as Record<string, unknown> | null;
  return !!e && typeof e === 'object' && typeof e.RequestType === 'string' && typeof e.ResponseURL === 'string';
}

/** S3 hosts CloudFormation's pre-signed URLs use (`<bucket>.s3.amazonaws.com`, `…s3.<region>.amazonaws.com[.cn]`). */
const S3_HOST = /^(?:[a-z0-9][a-z0-9.-]{0,254}\.)?s3(?:[.-][a-z0-9-]{1,63}){0,3}\.amazonaws\.com(?:\.cn)?$/;

/** The ResponseURL if the answer may be PUT there; undefined otherwise. */
export function responseUrlOf(raw: unknown, allowLoopback: boolean): URL | undefined {
  if (typeof raw !== 'string' || raw.length > 8192) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.username || url.password) return undefined;
  if (url.protocol === 'https:' && (url.port === '' || url.port === '443') && S3_HOST.test(url.hostname)) return url;
  if (allowLoopback && url.protocol === 'http:' && url.hostname === '127.0.0.1') return url;
  return undefined;
}

/** Options of {@link makeSiloRegistrationHandler}. */
export interface SiloRegistrationOptions {
  /** Accept `http://127.0.0.1:<port>` ResponseURLs (tests only). @default false */
  readonly allowLoopbackResponseUrl?: boolean;
  /** @default 10000 */
  readonly responseTimeoutMs?: number;
}

/** The answer's body: the documented fields, `Reason` shortened so the body fits {@link MAX_RESPONSE_BYTES}. */
export function responseBody(
  event: Record<string, unknown>,
  status: 'SUCCESS' | 'FAILED',
  physicalResourceId: string,
  reason: string,
): string {
  const field = (k: string) => (typeof event[k] === 'string' ? (event[k] as string).slice(0, 1024) : '');
  const body = {
    Status: status,
    Reason: reason,
    PhysicalResourceId: physicalResourceId.slice(0, 1024),
    StackId: field('StackId'),
    RequestId: field('RequestId'),
    LogicalResourceId: field('LogicalResourceId'),
  };
  let json = JSON.stringify(body);
  let keep = reason.length;
  while (Buffer.byteLength(json, 'utf8') > MAX_RESPONSE_BYTES && keep > 0) {
    keep = Math.max(0, keep - Math.max(16, Buffer.byteLength(json, 'utf8') - MAX_RESPONSE_BYTES));
    json = JSON.stringify({ ...body, Reason: `${reason.slice(0, keep)}…` });
  }
  return json;
}

interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId: string;
  readonly reason: string;
  readonly tenantId?: string;
}

/** A physical id for an answer that names no registered tenant (a failure before any registration). */
const unregisteredId = (event: Record<string, unknown>) =>
  typeof event.PhysicalResourceId === 'string' && event.PhysicalResourceId
    ? event.PhysicalResourceId
    : `switchboard-silo-unregistered/${String(event.RequestId ?? 'unknown')
        .replace(/[^\w-]/g, '')
        .slice(0, 64)}`;

/** The handler of SILO_REGISTRATION events: decides, then PUTs the answer; resolves once answered (never throws). */
export function makeSiloRegistrationHandler(
  deps: SiloRegistrationDeps,
  telemetry: Telemetry,
  options: SiloRegistrationOptions = {},
) {
  const decide = async (event: Record<string, unknown>): Promise<Outcome> => {
    const parsed = SiloRegistrationEventSchema.safeParse(event);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
      return {
        status: 'FAILED',
        physicalResourceId: unregisteredId(event),
        reason: `Invalid event: ${problems.join('; ')}`,
      };
    }
    const e = parsed.data;
    const tenantId = e.ResourceProperties[P.tenantId] as string;
    const who = `cloudformation:${e.StackId}`;
    if (e.RequestType === 'Delete') {
      // Only a physical id we gave names a tenant: a Delete after a failed Create touches nothing.
      const id = e.PhysicalResourceId?.startsWith(SILO_PHYSICAL_ID_PREFIX)
        ? e.PhysicalResourceId.slice(SILO_PHYSICAL_ID_PREFIX.length)
        : undefined;
      if (!id || !TENANT_ID_PATTERN.test(id)) {
        return { status: 'SUCCESS', physicalResourceId: unregisteredId(event), reason: 'nothing was registered' };
      }
      const evidence = await deregisterSiloTenant(deps, id, who);
      const reason = evidence
        ? evidence.deleted.join('; ')
        : `tenant "${id}" is not a registered silo tenant (moved to the pool, or deleted already): nothing was changed`;
      return { status: 'SUCCESS', physicalResourceId: e.PhysicalResourceId!, reason, tenantId: id };
    }
    let document: unknown;
    try {
      document = JSON.parse(e.ResourceProperties[P.document] as string);
    } catch (err) {
      throw new DomainError('invalid_tenant', `${P.document} is not JSON: ${(err as Error).message}`);
    }
    if (!document || typeof document !== 'object' || Array.isArray(document)) {
      throw new DomainError('invalid_tenant', `${P.document} must be a JSON object (the tenant file as JSON)`);
    }
    const { item, moved } = await registerSiloTenant(
      deps,
      tenantId,
      document as Record<string, unknown>,
      who,
      e.RequestType,
    );
    const status = `version ${item.version}, status ${item.status}`;
    const resume =
      item.status === 'suspended' ? `; PATCH /v1/tenants/${tenantId} {"resume": true} when its data is checked` : '';
    return {
      status: 'SUCCESS',
      physicalResourceId: `${SILO_PHYSICAL_ID_PREFIX}${tenantId}`,
      reason: moved
        ? `pooled tenant "${tenantId}" moved to its silo (${status}): pooled key revoked, ${moved.fromCell} place released, authorizer cache ${moved.authorizerCache}${resume}`
        : `silo tenant "${tenantId}" registered (${status})`,
      tenantId,
    };
  };

  return async (event: Record<string, unknown>): Promise<void> => {
    const url = responseUrlOf(event.ResponseURL, options.allowLoopbackResponseUrl ?? false);
    if (!url) {
      // Nowhere safe to answer: CloudFormation times the resource out (ServiceTimeout) rather than us PUTting anywhere.
      telemetry.log('ERROR', 'silo registration not answered: ResponseURL is not an https URL of an S3 host', {
        requestType: String(event.RequestType).slice(0, 16),
      });
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await decide(event);
    } catch (e) {
      const reason =
        e instanceof DomainError
          ? `${e.code}: ${e.message}`
          : `Internal error (${(e as Error)?.name ?? 'unknown'}); see the control plane function's logs`;
      outcome = { status: 'FAILED', physicalResourceId: unregisteredId(event), reason };
      if (!(e instanceof DomainError)) {
        telemetry.log('ERROR', 'silo registration failed', {
          error: (e as Error)?.name,
          message: (e as Error)?.message,
        });
      }
    }
    const body = responseBody(event, outcome.status, outcome.physicalResourceId, outcome.reason);
    const answered = await put(url, body, options.responseTimeoutMs ?? 10_000);
    telemetry.log(
      answered ? 'INFO' : 'ERROR',
      answered ? 'silo registration answered' : 'silo registration answer not delivered',
      {
        requestType: String(event.RequestType).slice(0, 16),
        status: outcome.status,
        ...(outcome.tenantId ? { subject: outcome.tenantId } : {}),
      },
    );
  };
}

/** PUTs the answer (no content type: the pre-signed URL signs none), retrying twice; whether S3 took it. */
async function put(url: URL, body: string, timeoutMs: number): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'PUT',
        body: new TextEncoder().encode(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      if (res.ok) return true;
      if (res.status < 500) return false;
    } catch {
      // network error or timeout: try again
    }
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
  return false;
}
