"""deploy/stedi.yaml as the tests read it: YAML with CloudFormation's short-form tags (!Ref,
!Sub, !GetAtt, …) and the roles' policy documents resolved for a test's bucket, database and
account. The tests take the policies from here, never typed a second time."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "stedi.yaml"
ROLES = {"pipeline": "PipelineRole", "data_scientist": "DataScientistRole",
         "steward": "StewardRole"}


class _Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader: _Loader, tag_suffix: str, node: yaml.Node):
    """`!Name value` -> {"Fn::Name": value} ({"Ref": value} for !Ref), as the long form."""
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_Loader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict:
    return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def resolve(value, names: dict[str, str]):
    """`value` with every Ref, Fn::Sub, Fn::GetAtt and Fn::Join replaced from `names`
    (parameters and pseudo parameters by name, resources by logical id, attributes as
    "LogicalId.Attribute"). A name `names` lacks is an error, never left in."""
    if isinstance(value, list):
        return [resolve(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return names[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        return names[".".join(value["Fn::GetAtt"])]
    if set(value) == {"Fn::Sub"}:
        text, local = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else (
            value["Fn::Sub"][0], resolve(value["Fn::Sub"][1], names))
        return re.sub(r"\$\{([^}!]+)\}", lambda m: {**names, **local}[m.group(1)], text)
    if set(value) == {"Fn::Join"}:
        separator, items = value["Fn::Join"]
        return separator.join(resolve(items, names))
    unknown = [key for key in value if key.startswith("Fn::")]
    if unknown:
        raise ValueError(f"intrinsic function not handled: {unknown}")
    return {key: resolve(item, names) for key, item in value.items()}


def template_names(bucket: str, database: str, account: str, region: str = "us-east-1",
                   workgroup: str = "stedi", stack: str = "stedi", **principals: str) -> dict:
    """What CloudFormation would put in for a stack with this bucket, database and account."""
    partition = "aws"
    return {
        "AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": partition,
        "AWS::StackName": stack, "LakeBucket": bucket, "LakeBucket.Arn": f"arn:aws:s3:::{bucket}",
        "DatabaseName": database, "GlueDatabase": database, "WorkGroupName": workgroup,
        "WorkGroup": workgroup,
        **{f"{ROLES[role].removesuffix('Role')}PrincipalArn": arn
           for role, arn in principals.items()},
    }


def role_policies(names: dict) -> dict[str, dict]:
    """Each role's one inline policy document, resolved: {"pipeline": {...}, …}."""
    resources = load_template()["Resources"]
    policies = {}
    for role, logical_id in ROLES.items():
        (policy,) = resources[logical_id]["Properties"]["Policies"]
        policies[role] = resolve(policy["PolicyDocument"], names)
    return policies


def trust_policy(role: str, names: dict) -> dict:
    properties = load_template()["Resources"][ROLES[role]]["Properties"]
    return resolve(properties["AssumeRolePolicyDocument"], names)
