"""routes: additional routes created, changed and deleted (``ApiGatewayAdditionalRoute``).

Saving a new route creates its integration and route and redeploys; a changed URL or key
updates them; a delete removes both. These run in the web process whenever staff edit
routes in the Django admin, not only in a deploy job.
"""

from wsgw_doctor.catalog import Feature, Phase, apigateway

FEATURE = Feature(
    name="routes",
    title="Additional routes",
    summary="Creating, changing and deleting ApiGatewayAdditionalRoute records.",
    phase=Phase.DEPLOY,
    default=True,
    requirements=(
        apigateway(
            "POST",
            "/apis/{api_id}/integrations",
            "apigatewayv2.CreateIntegration",
            "a new route gets its own HTTP integration",
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/routes",
            "apigatewayv2.CreateRoute",
            "a new route is created without authorization",
            context=(
                ("apigateway:Request/RouteAuthorizationType", ("NONE",)),
                ("apigateway:Request/ApiKeyRequired", ("false",)),
            ),
        ),
        apigateway(
            "GET",
            "/apis/{api_id}/routes",
            "apigatewayv2.GetRoutes",
            "a changed or deleted route is looked up in AWS first",
        ),
        apigateway(
            "PATCH",
            "/apis/{api_id}/integrations/{integration_id}",
            "apigatewayv2.UpdateIntegration",
            "a changed route points its integration at the new URL",
        ),
        apigateway(
            "PATCH",
            "/apis/{api_id}/routes/{route_id}",
            "apigatewayv2.UpdateRoute",
            "a changed route key is written to the route",
        ),
        apigateway(
            "DELETE",
            "/apis/{api_id}/routes/{route_id}",
            "apigatewayv2.DeleteRoute",
            "deleting the record deletes the route",
        ),
        apigateway(
            "DELETE",
            "/apis/{api_id}/integrations/{integration_id}",
            "apigatewayv2.DeleteIntegration",
            "deleting the record deletes the route's integration",
        ),
        apigateway(
            "POST",
            "/apis/{api_id}/deployments",
            "apigatewayv2.CreateDeployment",
            "every route change is redeployed to the stage",
            context=(("apigateway:Request/StageName", ("{stage}",)),),
        ),
    ),
)
