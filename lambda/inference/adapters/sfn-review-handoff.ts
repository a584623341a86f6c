/**
 * `ReviewHandOff` on Step Functions: starts the tenant's review state machine (a Standard workflow) with
 * the review id as the execution name, so a repeated hand-off of the same request starts nothing new
 * (Step Functions answers the existing execution for the same name and input). The input carries ids
 * only: the workflow reads the prompt from the ledger, never from execution history.
 */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ReviewExecutionInput } from '../../shared/review-schema';
import type { ReviewHandOff } from '../core/ports';

export function makeSfnReviewHandOff(sfn: SFNClient, stateMachineArn: string): ReviewHandOff {
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
