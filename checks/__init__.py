"""The feature catalog: one module per feature of django-aws-api-gateway-websockets.

The registry is explicit so that a module cannot be left out by accident: a test checks
that every module in this package is listed here exactly once.
"""

from wsgw_doctor.catalog import Feature

from . import (
    access_logging,
    certificate,
    create_api,
    custom_domain,
    dns,
    messaging,
    routes,
    sync,
)

FEATURES: tuple[Feature, ...] = (
    create_api.FEATURE,
    routes.FEATURE,
    sync.FEATURE,
    custom_domain.FEATURE,
    messaging.FEATURE,
    dns.FEATURE,
    certificate.FEATURE,
    access_logging.FEATURE,
)
