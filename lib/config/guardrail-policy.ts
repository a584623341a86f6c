/** Moved to lambda/shared/tenant-file/guardrail-policy.ts (pure: the control plane Lambda validates tenant documents with it). */
export * from '../../lambda/shared/tenant-file/guardrail-policy';
