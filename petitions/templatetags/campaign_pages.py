"""Template tags for the supporters' pages: numbers in the page's language, and who runs the campaign."""

from django import template
from django.utils.formats import number_format

from ..models import Organization

register = template.Library()


@register.filter
def grouped(value):
    """VALUE with its thousands grouped as the page's language writes them: 10 000 in Belarusian, 10,000 in English."""
    try:
        return number_format(int(value), force_grouping=True)
    except (TypeError, ValueError):
        return value


@register.simple_tag
def organization():
    """Who runs the campaign, as organizers describe it in the admin; None until they do."""
    return Organization.kept_current()
