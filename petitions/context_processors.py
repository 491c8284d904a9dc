"""Template context every page needs: this page's address in each language."""

from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language_info


def alternates(request):
    """Links to the same page in every language, for the switcher and hreflang alternates."""
    path = request.get_full_path()
    return {
        "language_alternates": [
            {
                "code": code,
                "native": get_language_info(code)["name_local"].capitalize(),
                "url": translate_url(path, code),
            }
            for code, _name in settings.LANGUAGES
        ],
        "site_url": settings.SITE_URL,
    }
