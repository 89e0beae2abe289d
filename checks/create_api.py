"""create-api: provisioning a WebSocket API (``createApiGateway``, admin "Create API Gateway").

``ApiGateway.create_gateway`` creates the API, an HTTP integration and a route for each of
``$connect``, ``$disconnect`` and ``$default``, the stage, and a first deployment. The API
id does not exist until CreateApi answers, so every sub-resource here is on a fresh id.
"""

from wsgw_doctor.catalog import SERVICE_LINKED_ROLE, Feature, Origin, Phase, Requirement, apigateway

_NEW_API = frozenset({"api_id"})

FEATURE = Feature(
    name="create-api",
    title="Provision the WebSocket API",
    summary="createApiGateway and the admin action create the API, routes, stage and deployment.",
    phase=Phase.DEPLOY,
    default=True,
    requirements=(
        apigateway(
            "POST",
            "/apis",
            "apigatewayv2.CreateApi",
            "creates the WebSocket API",
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/integrations",
            "apigatewayv2.CreateIntegration",
            "creates the HTTP integration behind $connect, $disconnect and $default",
            fresh=_NEW_API,
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/routes",
            "apigatewayv2.CreateRoute",
            "creates the $connect, $disconnect and $default routes, without authorization",
            context=(
                ("apigateway:Request/RouteAuthorizationType", ("NONE",)),
                ("apigateway:Request/ApiKeyRequired", ("false",)),
            ),
            fresh=_NEW_API,
        ),
        apigateway(
            "GET",
            "/apis/{api_id}/routes",
            "apigatewayv2.GetRoutes",
            "a resumed run lists the routes an interrupted one already made",
            fresh=_NEW_API,
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/stages",
            "apigatewayv2.CreateStage",
            "creates the stage, with no access log settings",
            context=(
                ("apigateway:Request/AccessLoggingDestination", ()),
                ("apigateway:Request/AccessLoggingFormat", ()),
            ),
            fresh=_NEW_API,
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/deployments",
            "apigatewayv2.CreateDeployment",
            "deploys the API to the stage it names",
            context=(("apigateway:Request/StageName", ("{stage}",)),),
            fresh=_NEW_API,
        ),
        Requirement(
            action="iam:CreateServiceLinkedRole",
            resource=SERVICE_LINKED_ROLE,
            operation="iam.CreateServiceLinkedRole",
            reason="API Gateway creates its service-linked role with the first API in an account",
            origin=Origin.AWS_RULE,
            context=(("iam:AWSServiceName", ("ops.apigateway.amazonaws.com",)),),
        ),
    ),
)
