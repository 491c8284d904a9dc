"""The ZIP code runs the sign form checks states against agree with the zipcodes package they were made from."""

import zipcodes

from petitions.signing.forms import zip_states


def test_every_known_zip_code_gives_the_packages_state():
    known = {entry["zip_code"]: entry["state"] for entry in zipcodes.list_all()}
    wrong = {code: (zip_states(code), state) for code, state in known.items() if zip_states(code) != {state}}
    assert not wrong, list(wrong.items())[:10]


def test_codes_the_package_does_not_know_give_no_state():
    known = {entry["zip_code"] for entry in zipcodes.list_all()}
    unknown = [f"{n:05d}" for n in range(100000) if f"{n:05d}" not in known]
    assert unknown, "the package knows every code: this test would show nothing"
    assert all(zip_states(code) == set() for code in unknown)
    assert zip_states("5030") == zip_states("abcde") == zip_states("") == set()
