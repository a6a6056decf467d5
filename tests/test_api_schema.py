"""The OpenAPI schema generates without a warning and validates."""

from django.core.management import call_command


def test_it_generates_a_valid_schema_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/persons/{id}/reveal/" in target.read_text()
