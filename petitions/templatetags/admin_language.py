"""The admin's language switch: the page's own address in another language."""

from django import template
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def page_in(context, language):
    """This page's path and query in LANGUAGE, resolved while the page's own language is active.

    set_language translates `next` itself, but in its own request, whose language comes from the
    cookie rather than the page's prefix: it fails to resolve /en/admin/ when that is Belarusian.
    """
    return translate_url(context["request"].get_full_path(), language)
