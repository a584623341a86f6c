/** What the review API shows of a review: the reviewer's view and the labelled example of the export. */
import type { ReviewItem } from './ports';

/** The answer a decision released: the edit, the model's answer when approved, none otherwise. */
function finalAnswerOf(r: ReviewItem): string | null {
  if (r.status === 'edited') return r.finalAnswer ?? null;
  if (r.status === 'approved') return r.proposedAnswer;
  return null;
}

/** What a reviewer sees (never the task token). */
export function reviewView(r: ReviewItem) {
  return {
    reviewId: r.reviewId,
    requestId: r.requestId,
    status: r.status,
    createdAt: r.createdAt,
    input: r.input,
    attempts: r.attempts,
    proposedAnswer: r.proposedAnswer,
    confidence: r.confidence,
    tier: r.tier,
    modelId: r.modelId,
    reason: r.reason ?? null,
    routeReason: r.routeReason ?? null,
    expiresBy: r.status === 'pending' ? (r.expiresBy ?? null) : null,
    decision:
      r.status === 'pending'
        ? null
        : {
            decidedAt: r.decidedAt ?? null,
            reviewer: r.reviewer ?? null,
            reviewerIdentity: r.reviewerIdentity ?? null,
            note: r.note ?? null,
            finalAnswer: finalAnswerOf(r),
          },
  };
}
export type ReviewView = ReturnType<typeof reviewView>;

/** One labelled example of the flywheel (a person's decision on a model answer). */
export function exampleOf(r: ReviewItem) {
  return {
    reviewId: r.reviewId,
    requestId: r.requestId,
    createdAt: r.createdAt,
    decidedAt: r.decidedAt ?? null,
    label: r.status,
    modelAnswerAccepted: r.modelAnswerAccepted ?? false,
    input: r.input,
    attempts: r.attempts,
    proposedAnswer: r.proposedAnswer,
    finalAnswer: finalAnswerOf(r),
    reviewer: r.reviewer ?? null,
  };
}
