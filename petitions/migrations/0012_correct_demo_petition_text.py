"""Correct the demo petition's Belarusian introduction and two names in its English letter.

A database loaded with the demo before the corrections holds the old wording. Each field is changed
only while it still holds exactly the old demo text, so an organizer's own edits are never replaced.
The texts are written out here, not imported from petitions.demo, so this migration keeps meaning
what it meant when it was written.
"""

# ruff: noqa: E501 -- paragraphs of prose, one per line.

from django.db import migrations

SLUG = "free-political-prisoners"

OLD_INTRODUCTION_BE = """Важна як мага хутчэй спыніць катаванні і гвалт над палітвязнямі ў Беларусі. І пакуль усё іншыя актыўнасці могуць заняць час для дасягнення выніку - нам неабходна бесперапынна патрабаваць вызваленьне вязьняў.

Каб ваш голас пачулі падпішыце петыцыю да свайго сенатара ў Кансгрэсе ЗША і падпішыце петыцыю да Прэзідэнта ЗША."""

NEW_INTRODUCTION_BE = """Важна як мага хутчэй спыніць катаванні і гвалт над палітвязнямі ў Беларусі. І пакуль усе іншыя захады могуць заняць час для дасягнення выніку — нам неабходна бесперапынна патрабаваць вызвалення вязняў.

Каб ваш голас пачулі, падпішыце петыцыю да свайго сенатара ў Кангрэсе ЗША і падпішыце петыцыю да Прэзідэнта ЗША."""

# The old letter differs from the new one only in the two misspelt names.
NEW_LETTER_EN = """I am writing to thank you for your support of democracy in Belarus and ask you to make the release of Belarusian political prisoners your central demand of the Lukashenko regime. To achieve this, we ask you to use sanctions on mid-level bureaucrats in law enforcement, the security apparatus, and the judiciary as leverage. The free exchange of ideas is the centerpiece of democracy and is not possible when those who disagree with the government are arrested, beaten, tortured, killed, imprisoned, or exiled.

According to the human rights center Viasna, Belarus, a country of 9.35 million people, has 471 political prisoners as of June 7, 2021. The diversion of Ryanair Flight #FR4978 and arrest followed by forced confession of journalist Raman Pratasevich is only the most internationally visible recent example of political hostage-taking. Two recent presidential candidates - Siarhei Tsikhanouski and Victor Babariko - sit in jail for challenging Alexander Lukashenko in the 2020 presidential election, as does Maria Kolesnikova, Babariko’s campaign manager and part of the female triumvirate led by Sviatlana Tsikhanouskaya that likely defeated Lukashenko in the 2020 election.

Several political prisoners have died in jail, including Vitold Ashurak. The regime knows no boundaries as it arrests and incarcerates teenagers like Mikita Zalatarou and Dmitry Stakhovsky, who committed suicide after interrogation.

The United States is the model for our modern understanding of the centrality of individual rights for a healthy democracy. The Belarusian people cannot have democracy or be free when their very words and peaceful political assembly can land them in jail. We ask that the United States, together with its allies, make it clear that failure to respect human rights and individual freedoms will result in painful economic and political costs."""

OLD_LETTER_EN = NEW_LETTER_EN.replace("Siarhei Tsikhanouski", "Sergei Tsikhanousky").replace(
    "Sviatlana Tsikhanouskaya", "Sviatlana Tsikhnouskaya"
)

CORRECTIONS = [
    ("introduction_be", OLD_INTRODUCTION_BE, NEW_INTRODUCTION_BE),
    ("letter_en", OLD_LETTER_EN, NEW_LETTER_EN),
]


def _replace(apps, pairs):
    Petition = apps.get_model("petitions", "Petition")
    for field, old, new in pairs:
        Petition.objects.filter(slug=SLUG, **{field: old}).update(**{field: new})


def correct_demo_text(apps, schema_editor):
    _replace(apps, CORRECTIONS)


def restore_demo_text(apps, schema_editor):
    _replace(apps, [(field, new, old) for field, old, new in CORRECTIONS])


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0011_organization_and_senators_first"),
    ]

    operations = [
        migrations.RunPython(correct_demo_text, restore_demo_text),
    ]
