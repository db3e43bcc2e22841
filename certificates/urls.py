from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("verify", views.verify_form, name="verify"),
    path("v/<str:code>", views.verify_code, name="verify_code"),
    path("certificates/", views.my_certificates, name="mine"),
    path(
        "certificates/<int:certificate_id>/download/",
        views.download,
        name="download",
    ),
    path(
        "company/<int:company_id>/certificates/",
        views.company_certificates,
        name="company",
    ),
    path(
        "company/<int:company_id>/certificates/download.zip",
        views.company_certificates_zip,
        name="company_zip",
    ),
]

# Bulk code check (issue 9): a status table for up to 200 codes.
urlpatterns += [
    path("verify/bulk", views.verify_bulk, name="verify_bulk"),
    path("verify/bulk.json", views.verify_bulk_json, name="verify_bulk_json"),
]
