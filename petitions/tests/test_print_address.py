"""The address block of a printed letter, as the post office reads it."""

from petitions.delivery.printing import _address_block
from petitions.models import Recipient

WHITE_HOUSE = "The White House\n1600 Pennsylvania Avenue NW\nWashington, DC 20500"


def _recipient(**fields):
    return Recipient(kind=Recipient.Kind.SENATOR, name="Joni Ernst", **fields)


def test_the_office_is_not_repeated_when_the_address_starts_with_it():
    president = Recipient(
        kind=Recipient.Kind.PRESIDENT, name="Donald Trump", office="The White House", office_address=WHITE_HOUSE
    )
    assert _address_block(president).splitlines() == [
        "Donald Trump",
        "The White House",
        "1600 Pennsylvania Avenue NW",
        "Washington, DC 20500",
    ]


def test_an_office_the_address_does_not_name_is_printed_between_the_name_and_the_street():
    senator = _recipient(
        office="United States Senate", office_address="730 Hart Senate Office Building\nWashington, DC 20510"
    )
    assert _address_block(senator).splitlines() == [
        "Joni Ernst",
        "United States Senate",
        "730 Hart Senate Office Building",
        "Washington, DC 20510",
    ]


def test_a_one_line_senate_address_gets_the_city_state_and_zip_on_a_line_of_their_own():
    senator = _recipient(office_address="511 Hart Senate Office Building Washington DC 20510")
    assert _address_block(senator).splitlines() == [
        "Joni Ernst",
        "511 Hart Senate Office Building",
        "Washington, DC 20510",
    ]


def test_blank_lines_and_stray_spaces_are_dropped():
    senator = _recipient(
        office="  ", office_address="\n  730 Hart  Senate Office Building \n\nWashington, DC 20510-0001\n"
    )
    assert _address_block(senator).splitlines() == [
        "Joni Ernst",
        "730 Hart Senate Office Building",
        "Washington, DC 20510-0001",
    ]
