/**
 * Review hand-offs on Step Functions: starts the tenant's review state machine (a Standard workflow) with
 * the review id as the execution name, so a repeated hand-off of the same request starts nothing new
 * (Step Functions answers the existing execution for the same name and input). The input carries ids
 * only: the workflow reads the prompt from the ledger, never from execution history.
 */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ReviewExecutionInput } from './review-schema';

/** Starts a request's review workflow (the inference core's `ReviewHandOff`, and the sweep's restarts). */
export interface ReviewWorkflowStarter {
  start(input: ReviewExecutionInput, signal?: AbortSignal): Promise<void>;
}

export function makeSfnReviewHandOff(sfn: SFNClient, stateMachineArn: string): ReviewWorkflowStarter {
  return {
    async start({ tenantId, requestId, reviewId }, signal) {
      const input: ReviewExecutionInput = { tenantId, requestId, reviewId };
      try {
        await sfn.send(new StartExecutionCommand({ stateMachineArn, name: reviewId, input: JSON.stringify(input) }), {
          abortSignal: signal,
        });
      } catch (e) {
        if (e instanceof ExecutionAlreadyExists || (e as Error)?.name === 'ExecutionAlreadyExists') return;
        throw e;
      }
    },
  };
}
