"""wsgw-doctor: which IAM permissions django-aws-api-gateway-websockets needs, and which you have."""

__version__ = "0.1.0"
