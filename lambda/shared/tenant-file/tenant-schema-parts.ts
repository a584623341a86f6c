/** Pieces of the tenant file schema (tenant-schema.ts): field schemas and refinements used by several fields. */
import { z } from 'zod';
import { MODELS, TIERS } from '../catalog';
import {
  RESERVED_KEY_PREFIX_PATTERN,
  RESERVED_VALUE_PREFIX_PATTERN,
  TAG_KEY_MAX_CHARS,
  TAG_PATTERN,
  TAG_VALUE_MAX_CHARS,
  tagKeyProblems,
  tagValueProblems,
} from './tags';

export const TierEnum = z.enum(TIERS);
export const knownModels = Object.keys(MODELS);

/** `{ warning, critical }` alarm thresholds between `min` and `max`; either may be left to the plan default. */
export function severity(min: number, max: number) {
  return z
    .strictObject({
      warning: z.number().min(min).max(max).optional().describe('Threshold of the Warning alarm'),
      critical: z.number().min(min).max(max).optional().describe('Threshold of the Critical alarm'),
    })
    .optional();
}

/** A tag key a tenant may set (AWS's rules, no reserved prefix); checked in code points, as AWS counts. */
export const TagKeySchema = z
  .string()
  .superRefine((key, ctx) => {
    for (const message of tagKeyProblems(key)) ctx.addIssue({ code: 'custom', input: key, message });
  })
  .meta({
    minLength: 1,
    maxLength: TAG_KEY_MAX_CHARS,
    pattern: TAG_PATTERN.source,
    not: { pattern: RESERVED_KEY_PREFIX_PATTERN },
  });

/** A tag value (AWS's rules; may be empty). */
export const TagValueSchema = z
  .string()
  .superRefine((value, ctx) => {
    for (const message of tagValueProblems(value)) ctx.addIssue({ code: 'custom', input: value, message });
  })
  .meta({
    maxLength: TAG_VALUE_MAX_CHARS,
    pattern: TAG_PATTERN.source,
    not: { pattern: RESERVED_VALUE_PREFIX_PATTERN },
  });

/**
 * An IAM role or user ARN (path allowed, no wildcards): who may assume a tenant's reviewer role. Linear: every
 * path segment ends at a `/` its characters exclude.
 */
export const IAM_PRINCIPAL_ARN_PATTERN =
  /^arn:aws(?:-[a-z]+){0,3}:iam::(\d{12}):(role|user)\/(?:[\w+=,.@-]+\/){0,64}[\w+=,.@-]{1,128}$/;

/** Each reviewer principal once, all of one account (the tenant's stack trusts its own account only). */
export function rejectForeignOrRepeatedPrincipals(arns: readonly string[], ctx: z.RefinementCtx): void {
  const first = new Map<string, number>();
  const account = IAM_PRINCIPAL_ARN_PATTERN.exec(arns[0] ?? '')?.[1];
  arns.forEach((arn, i) => {
    const j = first.get(arn);
    if (j !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [i],
        input: arn,
        message: `already listed as escalation.reviewerPrincipals.${j}; list each principal once`,
      });
      return;
    }
    first.set(arn, i);
    const own = IAM_PRINCIPAL_ARN_PATTERN.exec(arn)?.[1];
    if (account && own && own !== account) {
      ctx.addIssue({
        code: 'custom',
        path: [i],
        input: arn,
        message: `names account ${own}, but escalation.reviewerPrincipals.0 names ${account}; every reviewer principal must be in the account the tenant is deployed to`,
      });
    }
  });
}

/**
 * Each reviewer once: SNS subscribes an address once per topic (a second subscription is a construct id
 * collision at synth), and mailboxes do not differ by case, so `A@x.com` and `a@x.com` are the same reviewer.
 */
export function rejectDuplicateEmails(emails: readonly string[], ctx: z.RefinementCtx): void {
  const first = new Map<string, number>();
  emails.forEach((email, i) => {
    const key = email.toLowerCase();
    const j = first.get(key);
    if (j === undefined) {
      first.set(key, i);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: [i],
      input: email,
      message: `already listed as escalation.reviewerEmails.${j} (${JSON.stringify(emails[j])}); e-mail addresses are compared ignoring case, list each reviewer once`,
    });
  });
}
