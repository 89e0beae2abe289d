"""custom-domain: the regional domain name and its API mapping (``createCustomDomain``).

CreateDomainName is a POST on the collection, so it cannot be pinned to one domain; the
mapping is. API Gateway attaches the ACM certificate through its service-linked role,
which it creates on first use with the caller's permission.
"""

from wsgw_doctor.catalog import SERVICE_LINKED_ROLE, Feature, Origin, Phase, Requirement, apigateway

FEATURE = Feature(
    name="custom-domain",
    title="Custom domain",
    summary="createCustomDomain: the regional domain name and the mapping to the stage.",
    phase=Phase.DEPLOY,
    default=True,
    requirements=(
        apigateway(
            "POST",
            "/domainnames",
            "apigatewayv2.CreateDomainName",
            "creates a REGIONAL domain name with a TLS 1.2 security policy",
            context=(
                ("apigateway:Request/EndpointType", ("REGIONAL",)),
                ("apigateway:Request/SecurityPolicy", ("TLS_1_2",)),
            ),
        ),
        apigateway(
            "POST",
            "/domainnames/{domain}/apimappings",
            "apigatewayv2.CreateApiMapping",
            "maps the domain to the API's stage",
        ),
        Requirement(
            action="iam:CreateServiceLinkedRole",
            resource=SERVICE_LINKED_ROLE,
            operation="iam.CreateServiceLinkedRole",
            reason="API Gateway creates its service-linked role for the first regional domain",
            origin=Origin.AWS_RULE,
            context=(("iam:AWSServiceName", ("ops.apigateway.amazonaws.com",)),),
        ),
    ),
)
