"""dns: the Route 53 alias record that points the custom domain at API Gateway.

The library creates the domain name but no DNS record; a deployment makes an A alias to
the domain's regional target and waits for the change to be in sync. Route 53 is global
and signs its requests in us-east-1.
"""

from wsgw_doctor.catalog import Feature, Origin, Phase, Requirement

FEATURE = Feature(
    name="dns",
    title="DNS alias record",
    summary="The Route 53 A alias for the custom domain, a step the library leaves to you.",
    phase=Phase.DEPLOY,
    default=False,
    requirements=(
        Requirement(
            action="route53:ChangeResourceRecordSets",
            resource="arn:{partition}:route53:::hostedzone/{hosted_zone_id}",
            operation="route53.ChangeResourceRecordSets",
            reason="upserts the A alias record for the domain",
            origin=Origin.DEPLOYMENT_STEP,
            context=(
                ("route53:ChangeResourceRecordSetsNormalizedRecordNames", ("{domain}",)),
                ("route53:ChangeResourceRecordSetsRecordTypes", ("A",)),
                ("route53:ChangeResourceRecordSetsActions", ("UPSERT",)),
            ),
        ),
        Requirement(
            action="route53:GetChange",
            resource="arn:{partition}:route53:::change/{change_id}",
            operation="route53.GetChange",
            reason="waits for the record change to reach INSYNC",
            origin=Origin.DEPLOYMENT_STEP,
        ),
    ),
)
