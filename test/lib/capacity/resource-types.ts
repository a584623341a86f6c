/**
 * Every resource type the stacks create, decided once for the capacity tests: counted by the capacity model against a
 * quota, or shown to have no quota a fleet could reach (with the reason).
 */

/** Resource types the capacity model counts against a quota. */
export const COUNTED = new Set([
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::UsagePlan',
  'AWS::ApiGateway::ApiKey',
  'AWS::ApiGateway::ClientCertificate',
  'AWS::Lambda::Function',
  'AWS::IAM::Role',
  'AWS::IAM::ManagedPolicy',
  'AWS::Events::Rule',
  'AWS::SNS::Topic',
  'AWS::KMS::Key',
  'AWS::StepFunctions::StateMachine',
  'AWS::DynamoDB::Table',
  'AWS::WAFv2::WebACL',
  'AWS::Backup::BackupSelection',
  'AWS::Bedrock::Guardrail',
  'AWS::Cognito::UserPoolClient',
  'AWS::Cognito::UserPoolGroup',
]);
/** Resource types with no regional quota a fleet could reach, and why. */
export const UNBOUNDED: Record<string, string> = {
  'AWS::ApiGateway::Authorizer': 'per API (10), one per pool cell',
  'AWS::ApiGateway::Deployment': 'per API (stages and deployments are per-API limits, one each)',
  'AWS::ApiGateway::GatewayResponse': 'per API, a fixed set',
  'AWS::ApiGateway::Method': 'per API resource',
  'AWS::ApiGateway::Model': 'per API',
  'AWS::ApiGateway::RequestValidator': 'per API',
  'AWS::ApiGateway::Resource': 'per API (300), Switchboard uses 9',
  'AWS::ApiGateway::Stage': 'per API (10), one',
  'AWS::ApiGateway::UsagePlanKey': 'per API key (10 usage plans per key), one',
  'AWS::Backup::BackupPlan': 'one per platform (300 per region)',
  'AWS::Backup::BackupVault': 'one per platform (300 per region)',
  'AWS::Bedrock::GuardrailVersion':
    'per guardrail (20 versions), one live; replaced versions are retained until deleted (README, "Guardrails")',
  'AWS::CDK::Metadata': 'not an AWS resource',
  'AWS::Cognito::UserPool': "one per platform (the reviewers'; 1,000 user pools per account and region)",
  'AWS::Cognito::UserPoolDomain': 'one per user pool',
  'Custom::SwitchboardSiloTenant':
    'a silo tenant’s registration in the control plane’s registry (an item, not an AWS resource); counted in the control plane template’s resources',
  'AWS::CloudWatch::Alarm': 'no limit on alarms per account (CloudWatch quotas)',
  'AWS::CloudWatch::CompositeAlarm': 'no limit; at most 100 alarms in its rule (a tenant has under 30)',
  'AWS::CloudWatch::Dashboard': 'no limit on dashboards per account',
  'AWS::KMS::Alias': 'per key (50), one',
  'AWS::Lambda::Permission': 'per function policy (20 KB), a fixed set',
  'AWS::Logs::LogGroup': 'one million per account and region',
  'AWS::SNS::Subscription': '12.5 million per topic',
  'AWS::SNS::TopicPolicy': 'one per topic',
  'AWS::SecretsManager::Secret': '500,000 per account and region (one per tenant with a webhook)',
  'AWS::SecretsManager::ResourcePolicy': 'one per secret',
  'AWS::WAFv2::LoggingConfiguration': 'one per web ACL',
  'AWS::WAFv2::WebACLAssociation': 'one per stage',
};
