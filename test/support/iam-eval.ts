/** The offline IAM evaluator moved to lib/compliance/iam-eval.ts (the isolation matrix uses it at synth). */
export * from '../../lib/compliance/iam-eval';
