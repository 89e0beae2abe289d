"""Checking with live AWS credentials: who the caller is, and what IAM decides for them.

Nothing in this package imports boto3 at import time, so that the offline check and
``--help`` stay fast; each module reaches for boto3 only when it talks to AWS.
"""
