"""wsgw-doctor: the IAM permissions django-aws-api-gateway-websockets needs, and yours."""

__version__ = "0.1.0"
