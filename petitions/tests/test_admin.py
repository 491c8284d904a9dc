"""The organizers' admin: petitions side by side, signature search, filters and export, recipients."""

import csv
import io
import tracemalloc
from datetime import timedelta
from urllib.parse import quote

import lxml.html
import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation

from petitions.models import Petition, Signature

from .conftest import make_petition, make_president, make_senator

pytestmark = pytest.mark.django_db


def _admin_url(name, *args, language="en", query=""):
    with translation.override(language):
        return reverse(f"admin:{name}", args=args) + (f"?{query}" if query else "")


def _page(response):
    return lxml.html.fromstring(response.content)


def _signatures(petition, count, **fields):
    """COUNT signatures made at once: the admin's lists and export only read them."""
    start = Signature.objects.count()
    values = {
        "status": Signature.Status.CONFIRMED,
        "title": "Ms.",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address": "1007 Grand Ave",
        "city": "Des Moines",
        "state": "IA",
        "zip_code": "50309",
        "language": "en",
        "letter_hash": petition.letter_hash(),
    }
    values.update(fields)
    return Signature.objects.bulk_create(
        (
            Signature(
                petition=petition,
                email=f"signer{n}@example.org",
                email_normalized=f"signer{n}@example.org",
                **values,
            )
            for n in range(start, start + count)
        ),
        batch_size=5000,
    )


def _changelist_ids(admin_client, query="", language="en"):
    response = admin_client.get(_admin_url("petitions_signature_changelist", language=language, query=query))
    assert response.status_code == 200
    return {int(value) for value in _page(response).xpath('//input[@name="_selected_action"]/@value')}


# --- Petitions --------------------------------------------------------------------------------


def test_the_petition_form_shows_the_two_languages_side_by_side_and_links_to_the_live_page(admin_client, petition):
    response = admin_client.get(_admin_url("petitions_petition_change", petition.pk))

    assert response.status_code == 200
    page = _page(response)
    for field in ("title", "introduction", "letter"):
        [row] = page.xpath(f'//div[contains(@class, "form-row")][contains(@class, "field-{field}_be")]')
        assert f"field-{field}_en" in row.get("class")
        assert row.xpath(f'.//*[@name="{field}_be"]') and row.xpath(f'.//*[@name="{field}_en"]')
    assert page.xpath(f'//a[@href="{petition.get_absolute_url()}"]'), "no link to the live page"


def _petition_post(petition, **changes):
    data = {
        "slug": petition.slug,
        "status": petition.status,
        "goal": petition.goal,
        "allow_senators": "on",
        "allow_president": "on",
        "title_be": petition.title_be,
        "title_en": petition.title_en,
        "introduction_be": petition.introduction_be,
        "introduction_en": petition.introduction_en,
        "letter_be": petition.letter_be,
        "letter_en": petition.letter_en,
        "subject": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("language", ["be", "en"])
def test_a_petition_cannot_be_opened_with_an_empty_belarusian_letter(admin_client, language):
    petition = make_petition(status=Petition.Status.DRAFT, letter_be="")
    url = _admin_url("petitions_petition_change", petition.pk, language=language)

    response = admin_client.post(url, _petition_post(petition, status="open"))

    assert response.status_code == 200
    errors = _page(response).xpath('//div[contains(@class, "field-letter_be")]//ul[@class="errorlist"]')
    assert errors
    petition.refresh_from_db()
    assert petition.status == Petition.Status.DRAFT
    if language == "en":
        assert "A published petition needs this text in both languages." in errors[0].text_content()


def test_a_new_petition_can_be_added(admin_client):
    assert admin_client.get(_admin_url("petitions_petition_add")).status_code == 200


def test_a_complete_petition_can_be_opened(admin_client):
    petition = make_petition(status=Petition.Status.DRAFT)
    response = admin_client.post(
        _admin_url("petitions_petition_change", petition.pk), _petition_post(petition, status="open")
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN


# --- Signatures: search and filters -----------------------------------------------------------


def test_signatures_are_found_by_name_email_and_zip(admin_client, petition):
    [ada] = _signatures(petition, 1)
    [grace] = _signatures(petition, 1, first_name="Grace", last_name="Hopper", zip_code="10001", state="NY")
    Signature.objects.filter(pk=grace.pk).update(email="grace@navy.example")

    assert _changelist_ids(admin_client, "q=Hopper") == {grace.pk}
    assert _changelist_ids(admin_client, "q=grace") == {grace.pk}
    assert _changelist_ids(admin_client, "q=navy.example") == {grace.pk}
    assert _changelist_ids(admin_client, "q=50309") == {ada.pk}
    assert _changelist_ids(admin_client, "q=Lovelace") == {ada.pk}


def test_signatures_are_filtered_by_petition_state_status_language_and_date(admin_client, petition):
    other = make_petition(slug="other")
    [iowa] = _signatures(petition, 1)
    [ohio] = _signatures(petition, 1, state="OH", status=Signature.Status.PENDING, language="be")
    [abroad] = _signatures(other, 1, state="", country="Lithuania")
    Signature.objects.filter(pk=abroad.pk).update(created_at=timezone.now() - timedelta(days=40))

    assert _changelist_ids(admin_client, f"petition__id__exact={other.pk}") == {abroad.pk}
    assert _changelist_ids(admin_client, "state=OH") == {ohio.pk}
    assert _changelist_ids(admin_client, "state=abroad") == {abroad.pk}
    assert _changelist_ids(admin_client, "status__exact=pending") == {ohio.pk}
    assert _changelist_ids(admin_client, "language__exact=be") == {ohio.pk}
    since = quote((timezone.now() - timedelta(days=7)).isoformat())  # Aware, as the admin's date filter sends.
    assert _changelist_ids(admin_client, f"created_at__gte={since}") == {iowa.pk, ohio.pk}


def test_the_signature_list_runs_the_same_queries_for_50_rows_as_for_5(
    admin_client, petition, django_assert_max_num_queries
):
    url = _admin_url("petitions_signature_changelist")
    _signatures(petition, 5)
    admin_client.get(url)
    with django_assert_max_num_queries(20) as few:
        admin_client.get(url)

    _signatures(petition, 45)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = admin_client.get(url)

    assert len(_page(response).xpath('//input[@name="_selected_action"]')) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


def test_html_in_a_name_is_escaped_in_the_signature_list(admin_client, petition):
    _signatures(petition, 1, last_name="<script>alert(1)</script>")
    content = admin_client.get(_admin_url("petitions_signature_changelist")).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


# --- Signatures: the CSV export ---------------------------------------------------------------


def _csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_streams_the_current_filter(admin_client, petition):
    _signatures(petition, 3)
    [pending] = _signatures(petition, 1, status=Signature.Status.PENDING, first_name="Grace")

    response = admin_client.get(_admin_url("petitions_signature_export", query="status__exact=pending"))

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = _csv_rows(response)
    assert header[:3] == ["id", "petition__slug", "status"]
    assert [int(row[0]) for row in rows] == [pending.pk]
    assert rows[0][header.index("first_name")] == "Grace"


def test_the_changelist_links_to_the_export_of_its_filter(admin_client, petition):
    page = admin_client.get(_admin_url("petitions_signature_changelist", query="status__exact=pending")).content
    assert _admin_url("petitions_signature_export", query="status__exact=pending").encode() in page.replace(
        b"&amp;", b"&"
    )


def test_a_formula_in_a_name_is_exported_as_text_not_run_by_a_spreadsheet(admin_client, petition):
    _signatures(petition, 1, first_name='=HYPERLINK("http://evil.example","x")', last_name="+Lovelace")
    header, row = _csv_rows(admin_client.get(_admin_url("petitions_signature_export")))
    assert row[header.index("first_name")] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[header.index("last_name")] == "'+Lovelace"


def _copies(signature, count):
    """COUNT copies of SIGNATURE with their own e-mail addresses, made by the database in one statement."""
    columns = [f.column for f in Signature._meta.concrete_fields if f.column not in ("id", "email", "email_normalized")]
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    table = Signature._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "  # noqa: S608
            f"INSERT INTO {table} ({names}, email, email_normalized) "
            f"SELECT {names}, 'copy' || i || '@example.org', 'copy' || i || '@example.org' "
            f"FROM {table}, n WHERE {table}.id = %s",
            [count, signature.pk],
        )


def test_the_export_streams_100000_signatures_without_loading_them_into_memory(admin_client, petition, record_property):
    _copies(*_signatures(petition, 1), 99_999)
    assert Signature.objects.count() == 100_000

    response = admin_client.get(_admin_url("petitions_signature_export"))
    assert isinstance(response, StreamingHttpResponse)

    tracemalloc.start()
    try:
        rows = 0
        size = 0
        for chunk in response.streaming_content:
            rows += chunk.count(b"\n")
            size += len(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert rows == 100_001
    record_property("export_peak_bytes", peak)
    record_property("export_bytes", size)
    print(f"export of 100,000 rows: {size / 2**20:.1f} MiB of CSV, peak Python memory {peak / 2**20:.1f} MiB")
    # Streaming peaks near 4 MiB; loading the 100,000 rows as tuples first peaks near 112 MiB.
    assert peak < 16 * 2**20


def test_a_staff_member_without_the_export_permission_gets_403(client, petition):
    _signatures(petition, 1)
    staff = User.objects.create_user("volunteer", password="a long enough password", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_signature"))
    client.force_login(staff)

    assert client.get(_admin_url("petitions_signature_changelist")).status_code == 200
    assert b"signature/export/" not in client.get(_admin_url("petitions_signature_changelist")).content
    assert client.get(_admin_url("petitions_signature_export")).status_code == 403


# --- Recipients -------------------------------------------------------------------------------


def _recipient_names(admin_client, query):
    page = _page(admin_client.get(_admin_url("petitions_recipient_changelist", query=query)))
    return {" ".join(cell.text_content().split()) for cell in page.xpath('//th[contains(@class, "field-name")]')}


def test_recipients_are_filtered_by_kind_state_and_active(admin_client):
    make_senator("IA", 2, "Joni Ernst", "Ernst")
    make_senator("OH", 1, "Bernie Moreno", "Moreno")
    make_senator("OH", 3, "Former Senator", "Former", is_active=False)
    make_president()

    assert _recipient_names(admin_client, "kind__exact=president") == {"The President of the United States"}
    assert _recipient_names(admin_client, "state__exact=OH") == {"Bernie Moreno", "Former Senator"}
    assert _recipient_names(admin_client, "is_active__exact=0") == {"Former Senator"}
    assert _recipient_names(admin_client, "kind__exact=senator&is_active__exact=1") == {"Joni Ernst", "Bernie Moreno"}


def test_a_recipient_can_be_edited(admin_client):
    senator = make_senator()
    page = admin_client.get(_admin_url("petitions_recipient_change", senator.pk))
    assert page.status_code == 200
    assert b'name="contact_form"' in page.content


# --- Languages --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_admin_works_in_belarusian_and_english(admin_client, petition, language):
    _signatures(petition, 1)
    for name in ("index", "petitions_signature_changelist", "petitions_petition_changelist"):
        response = admin_client.get(_admin_url(name, language=language))
        assert response.status_code == 200
        assert _page(response).get("lang") == language
    with translation.override(language):
        logout = translation.gettext("Log out")
    assert logout in admin_client.get(_admin_url("index", language=language)).content.decode()
    if language == "be":
        assert logout != "Log out"
