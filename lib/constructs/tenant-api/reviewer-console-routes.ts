import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CONSOLE_ENV, CONSOLE_FILES, REVIEWER_ROUTE_PREFIX } from '../../../lambda/review/http/console-assets';
import { acknowledge } from '../../compliance/acknowledge';
import type { ReviewerDirectory } from '../review/reviewer-directory';

/** Props of {@link ReviewerConsoleRoutes}. */
export interface ReviewerConsoleRoutesProps {
  readonly api: apigw.RestApi;
  /** The API's `/v1` resource. */
  readonly v1: apigw.IResource;
  /** The review API function (its environment gets the console's sign-in settings). */
  readonly reviewHandler: lambda.Function;
  readonly integration: apigw.LambdaIntegration;
  /** A pool cell's API: the reviewer routes are under the tenant (`/v1/reviewer/tenants/{tenantId}/reviews`). */
  readonly pooled: boolean;
  /** The platform's reviewer user pool. */
  readonly directory: ReviewerDirectory;
  readonly stageName: string;
  /** Validates path parameters. */
  readonly validator: apigw.IRequestValidator;
}

/**
 * The review console of an API and the routes it calls, for reviewers signed in with the platform's Cognito user
 * pool (MFA required, one group per tenant):
 *
 * - `GET /console/` and `GET /console/{file}`: the console's static files and its `config.json`, served by the review
 *   API function with no authorizer (no data: the files and the sign-in settings);
 * - `GET /v1/reviewer/reviews`, `GET …/{reviewId}`, `POST …/{reviewId}/decision` (a pool cell's under
 *   `/v1/reviewer/tenants/{tenantId}/`): the review routes behind a Cognito user pools authorizer; the function lets a
 *   reviewer act on exactly the tenants whose `tenant-<id>` group the token lists (lambda/review/http/reviewer-claims.ts).
 *   The SigV4 routes under `/v1/reviews` stay for tools.
 *
 * The console's app client (authorization code with PKCE, no secret) names the console's URL from the API's id, not
 * its stage: the function's environment names the client, and the stage depends on the function's integrations.
 */
export class ReviewerConsoleRoutes extends Construct {
  /** The reviewer routes (Cognito) and the console routes (public). */
  readonly reviewerMethods: readonly apigw.Method[];
  readonly consoleMethods: readonly apigw.Method[];

  constructor(scope: Construct, id: string, props: ReviewerConsoleRoutesProps) {
    super(scope, id);
    const { api, v1, integration, pooled, directory, validator } = props;
    const stack = Stack.of(this);
    const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [directory.userPool],
      identitySource: 'method.request.header.Authorization',
      authorizerName: 'reviewers',
    });
    const cognitoAuth: apigw.MethodOptions = {
      authorizer,
      authorizationType: apigw.AuthorizationType.COGNITO,
      requestValidator: validator,
    };
    const base = v1.addResource(REVIEWER_ROUTE_PREFIX.replace(/^\/v1\//, ''));
    const reviews = (pooled ? base.addResource('tenants').addResource('{tenantId}') : base).addResource('reviews');
    const review = reviews.addResource('{reviewId}');
    const tenantParam: Record<string, boolean> = pooled ? { 'method.request.path.tenantId': true } : {};
    const params: Record<string, boolean> = { 'method.request.path.reviewId': true, ...tenantParam };
    this.reviewerMethods = [
      reviews.addMethod('GET', integration, { ...cognitoAuth, requestParameters: tenantParam }),
      review.addMethod('GET', integration, { ...cognitoAuth, requestParameters: params }),
      review.addResource('decision').addMethod('POST', integration, { ...cognitoAuth, requestParameters: params }),
    ];

    const consoleRoot = api.root.addResource('console');
    this.consoleMethods = [
      consoleRoot.addMethod('GET', integration, { requestValidator: validator }),
      consoleRoot.addResource('{file}').addMethod('GET', integration, {
        requestValidator: validator,
        requestParameters: { 'method.request.path.file': true },
      }),
    ];
    for (const m of this.consoleMethods) {
      acknowledge(
        m,
        'AwsSolutions-APIG4',
        `The review console's static files (${CONSOLE_FILES.join(', ')}) and its config.json (the sign-in domain and app client id, both public in any OAuth sign-in page): no data, so no authorizer; every call it makes goes to the Cognito-authorized reviewer routes.`,
      );
      acknowledge(
        m,
        'AwsSolutions-COG4',
        "The review console's static files and sign-in settings are public by nature (a browser loads them before sign-in); the reviewer routes they call use the Cognito user pool authorizer.",
      );
    }

    // The app client: where Cognito sends a reviewer back after sign-in.
    const consoleUrl = `https://${api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${props.stageName}/console/index.html`;
    const client = directory.addConsoleClient(this, 'Client', consoleUrl);
    props.reviewHandler.addEnvironment(
      CONSOLE_ENV,
      stack.toJsonString({
        clientId: client.userPoolClientId,
        ...(directory.signInUrl ? { signInUrl: directory.signInUrl } : {}),
      }),
    );
  }

  /** The routes in the resource policy's own-API form (`execute-api:/live/GET/v1/reviewer/...`), for every caller. */
  resourcePolicyStatement(route: (m: apigw.Method) => string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'ConsoleAndReviewerRoutesForEveryCaller',
      principals: [new iam.AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: [...this.consoleMethods, ...this.reviewerMethods].map(route),
    });
  }
}
