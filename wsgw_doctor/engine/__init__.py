"""The IAM policy engine: parse identity-based policies and decide requests against them.

The engine is the doctor's own so that every decision can be explained (which statement,
which level, which missing context key) and so that checking a whole feature catalog
costs milliseconds. It needs neither AWS credentials nor a network.
"""

from .errors import PolicyError
from .evaluate import evaluate
from .loader import load_policy_file, parse_policy, parse_policy_document
from .model import Condition, Decision, Match, Policy, PolicySet, Request, Statement

__all__ = [
    "Condition",
    "Decision",
    "Match",
    "Policy",
    "PolicyError",
    "PolicySet",
    "Request",
    "Statement",
    "evaluate",
    "load_policy_file",
    "parse_policy",
    "parse_policy_document",
]
