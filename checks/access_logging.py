"""access-logging: CloudWatch logs for the WebSocket stage.

Stage logging needs the account's CloudWatch role to be set in each region, which is an
API Gateway (v1) account setting that passes an IAM role; then the stage's access log
settings name a log group, which has to exist.
"""

from wsgw_doctor.catalog import Feature, Origin, Phase, Requirement, apigateway

_STEP = Origin.DEPLOYMENT_STEP

FEATURE = Feature(
    name="access-logging",
    title="Stage access logging",
    summary="The account CloudWatch role, PassRole, stage log settings and the log group.",
    phase=Phase.DEPLOY,
    default=False,
    requirements=(
        apigateway(
            "GET",
            "/account",
            "apigateway.GetAccount",
            "reads whether the account's CloudWatch role is set",
            origin=_STEP,
        ),
        apigateway(
            "PATCH",
            "/account",
            "apigateway.UpdateAccount",
            "sets the account's CloudWatch role for the region",
            origin=_STEP,
        ),
        Requirement(
            action="iam:PassRole",
            resource="arn:{partition}:iam::{account}:role/{cloudwatch_role}",
            operation="iam.PassRole",
            reason="UpdateAccount hands the CloudWatch role to API Gateway",
            origin=Origin.AWS_RULE,
        ),
        apigateway(
            "PATCH",
            "/apis/{api_id}/stages/{stage}",
            "apigatewayv2.UpdateStage",
            "turns on the stage's access log settings",
            origin=_STEP,
            context=(
                (
                    "apigateway:Request/AccessLoggingDestination",
                    ("arn:{partition}:logs:{region}:{account}:log-group:{log_group}",),
                ),
            ),
        ),
        Requirement(
            action="logs:CreateLogGroup",
            resource="arn:{partition}:logs:{region}:{account}:log-group:{log_group}",
            operation="logs.CreateLogGroup",
            reason="creates the log group the access logs are written to",
            origin=_STEP,
        ),
    ),
)
