from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.search, name="search"),
    path("services/<slug:slug>/", views.service_detail, name="service"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization"),
    path("list/", views.referral_list, name="referral_list"),
    path("list.txt", views.referral_list_text, name="referral_list_text"),
    path("list/add/", views.referral_add, name="referral_add"),
    path("list/remove/", views.referral_remove, name="referral_remove"),
    path("list/clear/", views.referral_clear, name="referral_clear"),
    path("safety/", views.safety, name="safety"),
]
