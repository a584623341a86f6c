/**
 * Pooled tenants' reviewer groups in the platform's reviewer user pool (Amazon Cognito): `tenant-<id>`, the group whose
 * members may review the tenant in the review console (lambda/review/http/reviewer-claims.ts makes the name).
 * https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateGroup.html
 */
import {
  type CognitoIdentityProviderClient,
  CreateGroupCommand,
  DeleteGroupCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { reviewerGroupName } from '../../review/http/reviewer-claims';
import type { ReviewerGroupsPort } from '../core/ports';

export function makeCognitoReviewerGroups(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
): ReviewerGroupsPort {
  return {
    async create(tenantId) {
      try {
        await client.send(
          new CreateGroupCommand({
            UserPoolId: userPoolId,
            GroupName: reviewerGroupName(tenantId),
            Description: `Reviewers of pooled tenant ${tenantId}: may answer its escalations in the review console`,
          }),
        );
        return 'created';
      } catch (e) {
        if ((e as Error)?.name === 'GroupExistsException') return 'exists';
        throw e;
      }
    },
    async remove(tenantId) {
      try {
        await client.send(new DeleteGroupCommand({ UserPoolId: userPoolId, GroupName: reviewerGroupName(tenantId) }));
        return 'removed';
      } catch (e) {
        if ((e as Error)?.name === 'ResourceNotFoundException') return 'absent';
        throw e;
      }
    },
  };
}
