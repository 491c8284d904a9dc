"""URLs of the supporters' pages; mounted under a language prefix."""

from django.urls import path

from .outreach import views as outreach_views
from .signing import views

app_name = "petitions"

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.privacy, name="privacy"),
    path("p/<slug:slug>/", views.detail, name="detail"),
    path("p/<slug:slug>/form-token/", views.form_token, name="form-token"),
    path("p/<slug:slug>/sign/", views.sign, name="sign"),
    path("p/<slug:slug>/signed/", views.signed, name="signed"),
    path("p/<slug:slug>/delivered/", views.delivered, name="delivered"),
    path("p/<slug:slug>/links/", views.new_links, name="new-links"),
    path("p/<slug:slug>/widget/", views.widget, name="widget"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("thanks/<str:token>/", views.thanks, name="thanks"),
    path("status/<str:token>/", views.status, name="status"),
    path("withdraw/<str:token>/", views.withdraw, name="withdraw"),
    path("unsubscribe/<str:token>/", outreach_views.unsubscribe, name="unsubscribe"),
    path("followup/<str:token>/", outreach_views.followup, name="followup"),
]
