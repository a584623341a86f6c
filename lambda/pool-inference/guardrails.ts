/**
 * The guardrails a pool cell applies: one per plan, shared by the plan's pooled tenants (POOL_ENV.guardrails,
 * JSON `{"<plan>": {"arn": "...", "version": "<n>"}}`, read at init). A pooled tenant that customizes its
 * guardrail would need one of its own, which a cell does not have: its requests are refused (a platform fault,
 * logged) rather than answered under a weaker policy than its file asks for.
 */
import * as z from 'zod/mini';
import { type GuardrailRef, GuardrailRefSchema, type TenantRuntimeConfig } from '../shared/tenant-runtime';
import { PLANS, type Plan } from '../shared/tenant-vocabulary';
import '../shared/zod-messages';

export type PlanGuardrails = Readonly<Partial<Record<Plan, GuardrailRef>>>;

const PlanGuardrailsSchema = z.partialRecord(z.enum(PLANS), GuardrailRefSchema);

/** Parses POOL_ENV.guardrails; throws at init, naming the problem, when it is not that JSON. */
export function parsePlanGuardrails(json: string): PlanGuardrails {
  return PlanGuardrailsSchema.parse(JSON.parse(json));
}

/** Thrown for a tenant the cell cannot apply a guardrail for (500, logged with this message). */
export class NoPoolGuardrailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoPoolGuardrailError';
  }
}

/** The guardrail every model call of `tenant` applies: its plan's. */
export function guardrailFor(tenant: TenantRuntimeConfig, guardrails: PlanGuardrails): GuardrailRef {
  if (tenant.guardrail.source !== 'plan') {
    throw new NoPoolGuardrailError(
      `Tenant ${tenant.tenantId} customizes its guardrail; pool cells apply only the plans' guardrails (make it a silo tenant, or remove its guardrail block)`,
    );
  }
  const g = guardrails[tenant.plan];
  if (!g) throw new NoPoolGuardrailError(`This cell has no guardrail for plan ${tenant.plan}`);
  return g;
}
