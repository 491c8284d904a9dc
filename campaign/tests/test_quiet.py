"""The test run's own configuration raises no warning: pyproject.toml turns ours into errors."""

import warnings

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_first_request_finds_a_static_root_to_index():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Client().get(reverse("healthz")).status_code == 200


@pytest.mark.parametrize("model", ["recipient", "organization"])
def test_the_admin_forms_with_web_addresses_assume_https(admin_client, model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = admin_client.get(reverse(f"admin:petitions_{model}_add"))
    assert response.status_code == 200
