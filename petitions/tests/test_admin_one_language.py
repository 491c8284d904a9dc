"""The admin speaks the organizer's language and shows what an organizer looks for."""

import lxml.html
import pytest
from django.urls import reverse
from django.utils import translation

from petitions.models import Signature

from .conftest import make_petition, make_senator
from .letters import confirmed_signature

pytestmark = pytest.mark.django_db


def _get(client, name, language, query=""):
    with translation.override(language):
        url = reverse(f"admin:{name}") + query
    response = client.get(url)
    assert response.status_code == 200
    return lxml.html.fromstring(response.content.decode())


@pytest.mark.parametrize(
    ("language", "expected", "foreign"),
    [
        ("en", "Send the selected letters through: E-mail", "Адправіць"),
        ("be", "Адправіць выбраныя лісты праз: Электронная пошта", "Send the selected"),
    ],
)
def test_the_re_route_actions_read_in_the_pages_language(admin_client, language, expected, foreign):
    page = _get(admin_client, "petitions_letter_changelist", language)
    actions = page.xpath('//select[@name="action"]/option/text()')
    assert expected in actions
    assert not [action for action in actions if foreign in action]


def test_the_letters_list_leads_with_recipient_status_channel_and_when(admin_client):
    petition = make_petition()
    confirmed_signature(petition, [make_senator()])
    page = _get(admin_client, "petitions_letter_changelist", "en")
    columns = [
        name
        for th in page.xpath('//table[@id="result_list"]/thead/tr/th')
        for name in th.get("class", "").split()
        if name.startswith("column-")
    ]
    assert columns[:4] == ["column-recipient", "column-status", "column-channel", "column-created_at"]
    assert "column-delivery_id" not in columns


def test_nobody_adds_a_signature_in_the_admin(admin_client):
    page = _get(admin_client, "petitions_signature_changelist", "en")
    assert not page.xpath('//ul[contains(@class, "object-tools")]//a[contains(@class, "addlink")]')
    with translation.override("en"):
        assert admin_client.get(reverse("admin:petitions_signature_add")).status_code == 403


def test_the_state_filter_lists_only_the_states_signers_live_in(admin_client):
    petition = make_petition()
    senator = make_senator()
    confirmed_signature(petition, [senator], state="IA")
    confirmed_signature(petition, [senator], state="OH")
    page = _get(admin_client, "petitions_signature_changelist", "en")
    links = page.xpath('//a[contains(@href, "state=")]/@href')
    states = sorted({href.split("state=")[1].split("&")[0] for href in links})
    assert states == ["IA", "OH"]


@pytest.mark.parametrize(("language", "other", "label"), [("en", "be", "Беларуская"), ("be", "en", "English")])
def test_the_admin_offers_the_other_language_and_switching_keeps_the_page(admin_client, language, other, label):
    page = _get(admin_client, "petitions_letter_changelist", language)
    button = page.xpath('//form[contains(@class, "admin-language")]//button[@name="language"]')
    assert [(b.get("value"), b.text_content().strip()) for b in button] == [(other, label)]

    (next_url,) = page.xpath('//form[contains(@class, "admin-language")]//input[@name="next"]/@value')
    response = admin_client.post(reverse("set_language"), {"language": other, "next": next_url})
    with translation.override(other):
        assert response["Location"] == reverse("admin:petitions_letter_changelist")


def test_the_quarantine_filter_lists_the_reasons_signatures_were_quarantined_for(admin_client):
    petition = make_petition()
    senator = make_senator()
    confirmed_signature(petition, [senator])
    Signature.objects.update(status="quarantined", quarantine_reason="blocked_network")
    page = _get(admin_client, "petitions_signature_changelist", "en")
    assert page.xpath('//a[contains(@href, "quarantine_reason=blocked_network")]')


@pytest.mark.parametrize("language", ["en", "be"])
def test_the_admin_home_puts_the_campaign_first_and_names_the_security_sections(admin_client, language):
    page = _get(admin_client, "index", language)
    sections = [caption.text_content().strip() for caption in page.xpath('//div[@id="content-main"]//caption')]
    with translation.override(language):
        campaign = str(translation.gettext("Campaign"))
        security = [
            translation.gettext("Security: log-in attempts"),
            translation.gettext("Security: two-factor devices"),
        ]
    assert sections[0] == campaign
    assert set(security) <= set(sections)
    assert "AXES" not in sections and "OTP_TOTP" not in sections
    assert language == "en" or "Security: log-in attempts" not in sections


def test_the_belarusian_admin_reads_in_the_official_orthography(admin_client):
    petition = make_petition()
    with translation.override("be"):
        response = admin_client.get(reverse("admin:petitions_petition_change", args=[petition.pk]))
    html = response.content.decode()
    assert "Змяніць пароль" in html
    assert "Зьмяніць" not in html and "Дзеяньне" not in html
