from django.urls import path

from . import views

app_name = "organizations"

urlpatterns = [
    path("company/", views.my_companies, name="my_companies"),
    path(
        "company/<int:company_id>/people/", views.company_people, name="company_people"
    ),
    path(
        "company/<int:company_id>/people/<int:membership_id>/end/",
        views.membership_end_view,
        name="membership_end",
    ),
    path(
        "company/<int:company_id>/people/<int:membership_id>/course-reviewer/",
        views.membership_course_reviewer_view,
        name="membership_course_reviewer",
    ),
    path(
        "company/<int:company_id>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path(
        "invitations/<str:token>/",
        views.invitation_accept_view,
        name="invitation_accept",
    ),
]
