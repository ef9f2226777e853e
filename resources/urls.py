from django.urls import path

from . import suggestions, views

app_name = "resources"

urlpatterns = [
    path("", views.search, name="search"),
    path("services/<slug:slug>/", views.service_detail, name="service"),
    path("services/<slug:slug>/preview/", views.service_preview, name="service_preview"),
    path("services/<slug:slug>/suggest/", suggestions.suggest, name="suggest"),
    path(
        "services/<slug:slug>/suggest/thanks/",
        suggestions.suggest_thanks,
        name="suggest_thanks",
    ),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization"),
    path("list/", views.referral_list, name="referral_list"),
    path("list.txt", views.referral_list_text, name="referral_list_text"),
    path("list/add/", views.referral_add, name="referral_add"),
    path("list/remove/", views.referral_remove, name="referral_remove"),
    path("list/clear/", views.referral_clear, name="referral_clear"),
    path("safety/", views.safety, name="safety"),
]
