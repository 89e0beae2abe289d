"""Reading policies: what is accepted, and the one-line error for each way a file is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wsgw_doctor.engine import (
    Condition,
    PolicyError,
    Statement,
    load_policy_file,
    parse_policy,
    parse_policy_document,
)

GOOD: dict[str, Any] = {"Effect": "Allow", "Action": "a:b", "Resource": "*"}


def text(*statements: Any, version: Any = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)}, indent=2)


def good(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != key}


def cond(block: Any) -> str:
    return text(good(Condition=block))


# (id, policy text, str(error), hint or None); line:col are where the element is written
ERRORS: list[tuple[str, str, str, str | None]] = [
    (
        "trailing-comma",
        '{"Statement": [{"Effect": "Allow",}]}',
        "policy.json:1:35: not valid JSON: Expecting property name enclosed in double quotes",
        "check for a trailing comma or a missing quote",
    ),
    (
        "empty-file",
        "",
        "policy.json:1:1: not valid JSON: Expecting value",
        "the file is empty; a policy is a JSON object",
    ),
    (
        "unterminated-string",
        '{"Statement": "abc',
        "policy.json:1:15: not valid JSON: Unterminated string starting at",
        "close the string with a double quote",
    ),
    (
        "two-documents",
        '{"Statement": []} {}',
        "policy.json:1:19: not valid JSON: Extra data",
        "a policy is a single JSON object; remove what follows it",
    ),
    (
        "nan",
        '{"Statement": NaN}',
        "policy.json: not valid JSON: NaN is not a JSON value",
        "write numbers as digits",
    ),
    (
        "duplicate-key",
        '{\n "Statement": {"Effect": "Allow", "Action": "a:b",\n'
        ' "Action": "c:d", "Resource": "*"}}',
        "policy.json:3:2: Statement: 'Action' appears twice",
        "merge the two; JSON readers disagree on which one counts",
    ),
    (
        "top-level-array",
        "[]",
        "policy.json:1:1: a policy is a JSON object, not an array",
        'write it as {"Version": "2012-10-17", "Statement": [...]}',
    ),
    (
        "no-statement",
        '{"Version": "2012-10-17"}',
        "policy.json:1:1: no Statement element",
        "list the statements under Statement",
    ),
    (
        "statement-empty",
        '{"Statement": []}',
        "policy.json:1:2: Statement: Statement is an empty list",
        "add at least one statement",
    ),
    (
        "statement-string",
        '{"Statement": "x"}',
        "policy.json:1:2: Statement: Statement must be an object or a list of objects, "
        "not a string",
        None,
    ),
    (
        "statement-not-object",
        text(GOOD, "x"),
        "policy.json:9:5: Statement[1]: a statement is a JSON object, not a string",
        None,
    ),
    (
        "no-effect",
        text(without("Effect")),
        "policy.json:4:5: Statement[0]: no Effect element",
        'add "Effect": "Allow" or "Effect": "Deny"',
    ),
    (
        "effect-lowercase",
        text(good(Effect="allow")),
        'policy.json:5:7: Statement[0].Effect: Effect must be "Allow" or "Deny", not \'allow\'',
        "the value is case-sensitive",
    ),
    (
        "action-and-not-action",
        text(good(NotAction="c:d")),
        "policy.json:6:7: Statement[0].Action: both Action and NotAction are present",
        "use one of them",
    ),
    (
        "no-action",
        text(without("Action")),
        "policy.json:4:5: Statement[0]: neither Action nor NotAction is present",
        "every statement needs Action or NotAction",
    ),
    (
        "resource-and-not-resource",
        text(good(NotResource="*")),
        "policy.json:7:7: Statement[0].Resource: both Resource and NotResource are present",
        "use one of them",
    ),
    (
        "no-resource",
        text(without("Resource")),
        "policy.json:4:5: Statement[0]: neither Resource nor NotResource is present",
        "every statement needs Resource or NotResource",
    ),
    (
        "action-number",
        text(good(Action=5)),
        "policy.json:6:7: Statement[0].Action: Action must be a string or a list of strings, "
        "not a number",
        None,
    ),
    (
        "action-entry-number",
        text(good(Action=["a:b", 5])),
        "policy.json:8:9: Statement[0].Action[1]: Action entries must be strings, not a number",
        None,
    ),
    (
        "action-empty-list",
        text(good(Action=[])),
        "policy.json:6:7: Statement[0].Action: Action is an empty list",
        None,
    ),
    (
        "action-without-service",
        text(good(Action="apigateway")),
        "policy.json:6:7: Statement[0].Action[0]: 'apigateway' is not an action",
        'write actions as "service:Action", for example "apigateway:POST"',
    ),
    (
        "not-action-with-space",
        text({**without("Action"), "NotAction": ["a:b", "apigateway POST"]}),
        "policy.json:9:9: Statement[0].NotAction[1]: 'apigateway POST' is not an action",
        'write actions as "service:Action", for example "apigateway:POST"',
    ),
    (
        "resource-not-arn",
        text(good(Resource="my-bucket")),
        "policy.json:7:7: Statement[0].Resource[0]: 'my-bucket' is not an ARN",
        'a resource is an ARN ("arn:aws:...") or "*"',
    ),
    (
        "resource-object",
        text(good(Resource={"arn": "x"})),
        "policy.json:7:7: Statement[0].Resource: Resource must be a string or a list of "
        "strings, not an object",
        None,
    ),
    (
        "condition-array",
        cond([]),
        "policy.json:8:7: Statement[0].Condition: Condition must be an object of operators, "
        "not an array",
        'for example {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}',
    ),
    (
        "operator-unknown",
        cond({"StringEqual": {"a:b": "c"}}),
        "policy.json:9:9: Statement[0].Condition.StringEqual: "
        "unknown condition operator 'StringEqual'",
        "did you mean StringEquals?",
    ),
    (
        "operator-wrong-case",
        cond({"stringequals": {"a:b": "c"}}),
        "policy.json:9:9: Statement[0].Condition.stringequals: "
        "unknown condition operator 'stringequals'",
        "did you mean StringEquals?",
    ),
    (
        "qualifier-unknown",
        cond({"ForSome:StringEquals": {"a:b": "c"}}),
        "policy.json:9:9: Statement[0].Condition.ForSome:StringEquals: "
        "unknown condition qualifier 'ForSome' in 'ForSome:StringEquals'",
        "the qualifiers are ForAllValues: and ForAnyValue:",
    ),
    (
        "null-if-exists",
        cond({"NullIfExists": {"a:b": "true"}}),
        "policy.json:9:9: Statement[0].Condition.NullIfExists: "
        "unknown condition operator 'NullIfExists'",
        "Null already tests whether the key exists; use Null",
    ),
    (
        "operator-value-not-object",
        cond({"StringEquals": "a:b"}),
        "policy.json:9:9: Statement[0].Condition.StringEquals: StringEquals must map condition "
        "keys to values, not a string",
        None,
    ),
    (
        "condition-value-null",
        cond({"StringEquals": {"a:b": None}}),
        "policy.json:10:11: Statement[0].Condition.StringEquals.a:b: condition values must be "
        "strings, numbers or booleans, not null",
        'write a value as "text", a number or true/false, or a list of them',
    ),
    (
        "condition-value-nested-list",
        cond({"StringEquals": {"a:b": ["x", ["y"]]}}),
        "policy.json:12:13: Statement[0].Condition.StringEquals.a:b[1]: condition values must "
        "be strings, numbers or booleans, not an array",
        'write a value as "text", a number or true/false, or a list of them',
    ),
    (
        "condition-value-object",
        cond({"StringEquals": {"a:b": {"x": 1}}}),
        "policy.json:10:11: Statement[0].Condition.StringEquals.a:b: condition values must be "
        "strings, numbers or booleans, not an object",
        'write a value as "text", a number or true/false, or a list of them',
    ),
    (
        "condition-key-empty",
        cond({"StringEquals": {"": "x"}}),
        "policy.json:10:11: Statement[0].Condition.StringEquals.'': a condition key must be a "
        "non-empty string",
        None,
    ),
    (
        "numeric-not-a-number",
        cond({"NumericLessThan": {"a:b": "ten"}}),
        "policy.json:10:11: Statement[0].Condition.NumericLessThan.a:b: NumericLessThan value "
        "'ten' is not a number",
        'write the number as digits, for example "10"',
    ),
    (
        "numeric-variable",
        cond({"NumericLessThan": {"a:b": "${a:c}"}}),
        "policy.json:10:11: Statement[0].Condition.NumericLessThan.a:b: NumericLessThan value "
        "'${a:c}' is not a literal value",
        "policy variables work only in string, ARN and Bool values",
    ),
    (
        "date-invalid",
        cond({"DateLessThan": {"aws:CurrentTime": "2024-13-01"}}),
        "policy.json:10:11: Statement[0].Condition.DateLessThan.aws:CurrentTime: DateLessThan "
        "value '2024-13-01' is not a date",
        "use ISO 8601 (2024-01-31T12:00:00Z) or epoch seconds",
    ),
    (
        "ip-invalid",
        cond({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}),
        "policy.json:10:11: Statement[0].Condition.IpAddress.aws:SourceIp: IpAddress value "
        "'10.0.0.0/33' is not an IP address or CIDR range",
        "for example 203.0.113.0/24 or 2001:db8::/32",
    ),
    (
        "bool-invalid",
        cond({"Bool": {"aws:SecureTransport": "yes"}}),
        "policy.json:10:11: Statement[0].Condition.Bool.aws:SecureTransport: Bool value 'yes' "
        "is not true or false",
        'use "true" or "false"',
    ),
    (
        "binary-invalid",
        cond({"BinaryEquals": {"a:b": "%%"}}),
        "policy.json:10:11: Statement[0].Condition.BinaryEquals.a:b: BinaryEquals value '%%' "
        "is not base64",
        "encode the binary value in base64",
    ),
    (
        "null-invalid",
        cond({"Null": {"a:b": "maybe"}}),
        "policy.json:10:11: Statement[0].Condition.Null.a:b: Null takes true or false, not 'maybe'",
        '"true" means the key must be absent, "false" that it must be present',
    ),
    (
        "version-invalid",
        text(GOOD, version="2012-10-18"),
        'policy.json:2:3: Version: Version must be "2012-10-17" or "2008-10-17", '
        "not '2012-10-18'",
        'use "2012-10-17"',
    ),
    (
        "version-number",
        json.dumps({"Version": 2012, "Statement": [GOOD]}),
        'policy.json:1:2: Version: Version must be "2012-10-17" or "2008-10-17", not a number',
        'use "2012-10-17"',
    ),
    (
        "unknown-element",
        text({"Effect": "Allow", "Actions": "a:b", "Resource": "*"}),
        "policy.json:6:7: Statement[0].Actions: unknown element 'Actions'",
        "did you mean Action?",
    ),
    (
        "unknown-top-level-element",
        json.dumps({"Statements": []}),
        "policy.json:1:2: Statements: unknown element 'Statements'",
        "did you mean Statement?",
    ),
    (
        "sid-number",
        text(good(Sid=3)),
        "policy.json:8:7: Statement[0].Sid: Sid must be a string",
        None,
    ),
    (
        "id-number",
        json.dumps({"Id": 3, "Statement": [GOOD]}),
        "policy.json:1:2: Id: Id must be a string",
        None,
    ),
]


@pytest.mark.parametrize(
    ("source", "message", "hint"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_error(source: str, message: str, hint: str | None) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(source, "policy.json")
    assert str(caught.value) == message
    assert caught.value.hint == hint
    assert "\n" not in str(caught.value)


def test_error_fields() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text(GOOD, good(NotAction="c:d")), "policy.json")
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.source, error.location, error.line, error.col) == (
        "policy.json",
        "Statement[1].Action",
        11,
        7,
    )
    assert error.message == "both Action and NotAction are present"


def test_decoded_document_errors_have_no_position() -> None:
    doc = {"Statement": [GOOD, good(NotAction="c:d")]}
    with pytest.raises(PolicyError) as caught:
        parse_policy_document(doc, "policy.json")
    assert str(caught.value) == (
        "policy.json: Statement[1].Action: both Action and NotAction are present"
    )
    assert (caught.value.line, caught.value.col) == (None, None)


def test_decoded_document_not_an_object() -> None:
    with pytest.raises(PolicyError, match=r"^p: a policy is a JSON object, not a string$"):
        parse_policy_document("x", "p")


def test_accepted_shapes() -> None:
    single = {"Statement": {"Effect": "Deny", "Action": "a:b", "Resource": "arn:aws:s3:::x"}}
    loaded = parse_policy_document(single, "single.json")
    assert loaded.version is None
    assert loaded.statements == (
        Statement(0, None, "Deny", ("a:b",), False, ("arn:aws:s3:::x",), False, (), False),
    )


def test_statement_fields() -> None:
    doc = {
        "Version": "2012-10-17",
        "Id": "example",
        "Statement": [
            GOOD,
            {
                "Sid": "Second",
                "Effect": "Allow",
                "NotAction": ["iam:*", "sts:*"],
                "NotResource": "arn:aws:iam::1:role/x",
                "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["a*", 1, True]}},
            },
        ],
    }
    second = parse_policy_document(doc, "p").statements[1]
    assert (second.index, second.sid, second.effect) == (1, "Second", "Allow")
    assert (second.actions, second.not_action) == (("iam:*", "sts:*"), True)
    assert (second.resources, second.not_resource) == (("arn:aws:iam::1:role/x",), True)
    assert second.conditions == (
        Condition("ForAnyValue:StringLike", "aws:TagKeys", ("a*", "1", "true")),
    )


def test_principal_is_accepted_and_ignored() -> None:
    doc = {"Statement": [good(Principal={"AWS": "arn:aws:iam::1:root"}), good(NotPrincipal="*")]}
    assert len(parse_policy_document(doc, "p").statements) == 2


def test_both_versions_are_accepted() -> None:
    for version in ("2012-10-17", "2008-10-17"):
        assert parse_policy(text(GOOD, version=version), "p").version == version


def test_bytes_with_byte_order_mark() -> None:
    assert parse_policy("\ufeff".encode() + text(GOOD).encode(), "p").statements


def test_bytes_not_utf8() -> None:
    with pytest.raises(PolicyError, match=r"^p: is not UTF-8 text \(byte 0xff at offset 1\)$"):
        parse_policy(b"{\xff}", "p")


def test_deep_nesting_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="nested too deeply"):
        parse_policy("[" * 100_000 + "]" * 100_000, "p")


def test_huge_integer_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"^p: not valid JSON: "):
        parse_policy('{"Statement": ' + "9" * 5000 + "}", "p")


def test_load_file_uses_path_or_label(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(text(GOOD), encoding="utf-8")
    assert load_policy_file(path).source == str(path)
    assert load_policy_file(str(path), label="deploy-role").source == "deploy-role"


def test_load_file_error_names_the_label(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"^deploy\.json:1:2: not valid JSON"):
        load_policy_file(path, label="deploy.json")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(PolicyError) as caught:
        load_policy_file(missing)
    assert str(caught.value) == f"{missing}: file not found"
    assert caught.value.hint == "check the path"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r": is a directory, not a policy file$"):
        load_policy_file(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.json"
    path.write_text(text(GOOD), encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(PolicyError, match=r"locked\.json: permission denied$"):
        load_policy_file(path)


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"Sid": "café"}'.encode("latin-1"))
    with pytest.raises(PolicyError, match=r"latin1\.json: is not UTF-8 text") as caught:
        load_policy_file(path)
    assert caught.value.hint == "save the policy as UTF-8"


def test_statement_built_directly_is_checked() -> None:
    with pytest.raises(ValueError, match="is not an action"):
        Statement(0, None, "Allow", ("nope",), False, ("*",), False)
    with pytest.raises(ValueError, match="unknown condition operator"):
        Condition("Equals", "a:b", ("c",))
