"""Template tags for the public page's optional map and responsiveness table, from cached counts."""

from django import template

from ..organizers import dashboard

register = template.Library()


@register.inclusion_tag("petitions/_public_map.html")
def public_map(petition):
    return {"petition": petition, "map": dashboard.map_context(dashboard.public_map_counts(petition))}


@register.inclusion_tag("petitions/_responsiveness.html")
def responsiveness_table(petition):
    return {"petition": petition, "rows": dashboard.public_responsiveness(petition)}
