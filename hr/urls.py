from django.urls import path

from . import views

app_name = "hr"

urlpatterns = [
    path("company/<int:company_id>/dashboard/", views.dashboard, name="dashboard"),
    path("company/<int:company_id>/matrix/", views.matrix, name="matrix"),
    path(
        "company/<int:company_id>/people/<int:user_id>/",
        views.employee,
        name="employee",
    ),
    path("company/<int:company_id>/exports/", views.exports, name="exports"),
    path(
        "company/<int:company_id>/exports/<int:job_id>/",
        views.export_status,
        name="export_status",
    ),
    path(
        "company/<int:company_id>/exports/<int:job_id>/download/",
        views.export_download,
        name="export_download",
    ),
    path("company/<int:company_id>/import/", views.import_upload, name="import"),
    path(
        "company/<int:company_id>/import/<int:import_id>/",
        views.import_preview,
        name="import_preview",
    ),
    path("company/<int:company_id>/assign/", views.assign, name="assign"),
    path(
        "company/<int:company_id>/digest/",
        views.digest_preference,
        name="digest_preference",
    ),
]

# Competence matrix and auditor links (issue 9).
urlpatterns += [
    path("company/<int:company_id>/competence/", views.competence, name="competence"),
    path(
        "company/<int:company_id>/auditor-links/",
        views.auditor_links,
        name="auditor_links",
    ),
    path(
        "company/<int:company_id>/auditor-links/<int:link_id>/",
        views.auditor_link,
        name="auditor_link",
    ),
    path(
        "company/<int:company_id>/auditor-links/<int:link_id>/revoke/",
        views.auditor_link_revoke,
        name="auditor_link_revoke",
    ),
    path("audit/<str:token>/", views.auditor_view, name="auditor_view"),
]
