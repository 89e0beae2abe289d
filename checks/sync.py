"""sync: keeping a deployed gateway and its Django record in step.

Saving a deployed ``ApiGateway`` with changed fields, the admin's "Sync to AWS" and
"Sync from AWS", and the ``updateApiGatewayIntegrations`` command read the API, its routes,
integrations, stage and deployment, write back what differs, and redeploy.
"""

from wsgw_doctor.catalog import Feature, Phase, apigateway

FEATURE = Feature(
    name="sync",
    title="Sync a deployed gateway",
    summary="Saving a deployed gateway, Sync to/from AWS, updateApiGatewayIntegrations.",
    phase=Phase.DEPLOY,
    default=True,
    requirements=(
        apigateway("GET", "/apis/{api_id}", "apigatewayv2.GetApi", "reads the API to compare it"),
        apigateway(
            "PATCH",
            "/apis/{api_id}",
            "apigatewayv2.UpdateApi",
            "writes a changed name, description or selection expression",
        ),
        apigateway(
            "GET",
            "/apis/{api_id}/routes",
            "apigatewayv2.GetRoutes",
            "lists the routes to compare them",
        ),
        apigateway(
            "GET",
            "/apis/{api_id}/integrations",
            "apigatewayv2.GetIntegrations",
            "lists the integrations to compare their URLs and headers",
        ),
        apigateway(
            "GET",
            "/apis/{api_id}/stages/{stage}",
            "apigatewayv2.GetStage",
            "reads the stage and its current deployment",
        ),
        apigateway(
            "GET",
            "/apis/{api_id}/deployments/{deployment_id}",
            "apigatewayv2.GetDeployment",
            "reads the deployment the stage points at",
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/integrations",
            "apigatewayv2.CreateIntegration",
            "a default or additional route missing in AWS is recreated with its integration",
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/routes",
            "apigatewayv2.CreateRoute",
            "a default or additional route missing in AWS is recreated",
            context=(
                ("apigateway:Request/RouteAuthorizationType", ("NONE",)),
                ("apigateway:Request/ApiKeyRequired", ("false",)),
            ),
        ),
        apigateway(
            "PATCH",
            "/apis/{api_id}/integrations/{integration_id}",
            "apigatewayv2.UpdateIntegration",
            "writes a changed target URL or gateway-secret header",
        ),
        apigateway(
            "PATCH",
            "/apis/{api_id}/routes/{route_id}",
            "apigatewayv2.UpdateRoute",
            "writes a changed route key",
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/deployments",
            "apigatewayv2.CreateDeployment",
            "redeploys the stage after a change",
            context=(("apigateway:Request/StageName", ("{stage}",)),),
        ),
    ),
)
