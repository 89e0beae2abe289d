"""certificate: reading the ACM certificate the custom domain uses.

API Gateway reads the certificate itself, through its service-linked role; a deployment
that verifies it first (issued, in the API's region, covering the domain) needs to read it.
"""

from wsgw_doctor.catalog import Feature, Origin, Phase, Requirement

FEATURE = Feature(
    name="certificate",
    title="Verify the certificate",
    summary="Reading the ACM certificate to check it before the domain is created.",
    phase=Phase.DEPLOY,
    default=False,
    requirements=(
        Requirement(
            action="acm:DescribeCertificate",
            resource="{certificate_arn}",
            operation="acm.DescribeCertificate",
            reason="reads the certificate's status, region and names",
            origin=Origin.DEPLOYMENT_STEP,
        ),
    ),
)
