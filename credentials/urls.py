from django.urls import path

from . import views

app_name = "credentials"

urlpatterns = [
    path("credentials/issuer", views.issuer, name="issuer"),
    path("credentials/jwks.json", views.jwks_view, name="jwks"),
    path("credentials/keys/<str:kid>", views.key, name="key"),
    path(
        "credentials/status/<int:list_id>/<str:purpose>",
        views.status_list,
        name="status_list",
    ),
    path("credentials/verify", views.verify, name="verify"),
    path("credentials/verify.json", views.verify_api, name="verify_api"),
    path(
        "credentials/proficiency/",
        views.proficiency_companies,
        name="proficiency_companies",
    ),
    path(
        "credentials/company/<int:company_id>/proficiency/",
        views.company_proficiency,
        name="company_proficiency",
    ),
    path(
        "credentials/<int:certificate_id>/credential.json",
        views.download_json,
        name="download_json",
    ),
    path(
        "credentials/<int:certificate_id>/credential.jwt",
        views.download_jwt,
        name="download_jwt",
    ),
]
