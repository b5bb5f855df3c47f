"""Parsing what a task definition points at: ECR image URIs and secret references."""

from __future__ import annotations

import pytest

from ecs_watchdog.diagnose.references import parse_ecr_image, parse_secret_reference

DIGEST = "sha256:" + "ab" * 32


def test_ecr_uri_with_nested_repository_and_tag():
    image = parse_ecr_image("039612856036.dkr.ecr.us-east-1.amazonaws.com/team/pairva-backend:1.0.1")
    assert image is not None
    assert (image.account, image.region, image.repository, image.tag, image.digest) == (
        "039612856036",
        "us-east-1",
        "team/pairva-backend",
        "1.0.1",
        None,
    )
    assert image.image_id == {"imageTag": "1.0.1"}


def test_ecr_uri_pinned_by_digest_is_looked_up_by_digest_even_with_a_tag():
    image = parse_ecr_image(f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v2@{DIGEST}")
    assert image is not None
    assert image.tag == "v2"
    assert image.image_id == {"imageDigest": DIGEST}
    assert image.label == f"api@{DIGEST}"


def test_ecr_uri_without_tag_means_latest():
    image = parse_ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/api")
    assert image is not None
    assert image.image_id == {"imageTag": "latest"}


@pytest.mark.parametrize(
    ("uri", "region"),
    [
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/api:1", "us-gov-west-1"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api:1", "cn-north-1"),
        ("123456789012.dkr-ecr.ap-south-1.on.aws/api:1", "ap-south-1"),
    ],
)
def test_ecr_uri_variants_keep_their_region(uri: str, region: str):
    image = parse_ecr_image(uri)
    assert image is not None
    assert image.region == region


@pytest.mark.parametrize(
    "uri",
    [
        "nginx:1.27",
        "docker.io/library/nginx:latest",
        "public.ecr.aws/nginx/nginx:1.27",
        "ghcr.io/acme/api:v1",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/${REPO}:latest",
    ],
)
def test_images_outside_private_ecr_are_not_parsed(uri: str):
    assert parse_ecr_image(uri) is None


def test_secrets_manager_arn_with_json_key_and_stage():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
    reference = parse_secret_reference(f"{arn}:password:AWSCURRENT:", "app", "DB_PASSWORD")
    assert reference.kind == "secretsmanager"
    assert reference.secret_id == arn
    assert (reference.json_key, reference.version_stage, reference.version_id) == ("password", "AWSCURRENT", None)
    assert (reference.region, reference.account) == ("us-east-1", "123456789012")


def test_secrets_manager_arn_with_only_a_version_id():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    reference = parse_secret_reference(f"{arn}:::3f5c9a4e-0000-4000-8000-000000000000")
    assert (reference.json_key, reference.version_stage) == (None, None)
    assert reference.version_id == "3f5c9a4e-0000-4000-8000-000000000000"


def test_plain_secrets_manager_arn_has_no_suffix():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    reference = parse_secret_reference(arn)
    assert reference.secret_id == arn
    assert reference.json_key is None


def test_ssm_arn_of_a_path_names_the_path():
    reference = parse_secret_reference("arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/url")
    assert reference.kind == "ssm"
    assert reference.parameter_names == ("/prod/db/url",)


def test_ssm_arn_of_a_single_name_may_mean_either_form():
    reference = parse_secret_reference("arn:aws:ssm:us-east-1:123456789012:parameter/db_url")
    assert reference.parameter_names == ("db_url", "/db_url")


def test_bare_name_is_an_ssm_parameter_in_the_task_region():
    reference = parse_secret_reference("/prod/api-key")
    assert reference.kind == "ssm"
    assert reference.region is None
    assert reference.parameter_names == ("/prod/api-key",)
