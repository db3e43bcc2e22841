from django.urls import path

from . import views

app_name = "dispatch"

urlpatterns = [
    # Public iCalendar feed of the schedule page at /visits/ (a Wagtail page
    # cannot serve a path ending in ".ics").
    path("visits/feed.ics", views.public_feed, name="public_feed"),
    path("dispatch/my-visits/", views.my_visits, name="my_visits"),
    path("dispatch/busy/", views.busy_blocks, name="busy_blocks"),
    path("dispatch/our-visits/", views.our_visits, name="our_visits"),
    path("dispatch/board/", views.board, name="board"),
    path("dispatch/requests/new/", views.request_create, name="request_create"),
    path(
        "dispatch/companies/<int:company_id>/visit-requesters/",
        views.visit_requesters,
        name="visit_requesters",
    ),
    path("dispatch/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path(
        "dispatch/requests/<int:pk>/schedule/",
        views.request_schedule,
        name="request_schedule",
    ),
    path("dispatch/visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("dispatch/visits/<int:pk>/invite.ics", views.visit_ics, name="visit_ics"),
    path(
        "dispatch/visits/<int:pk>/respond/", views.visit_respond, name="visit_respond"
    ),
    path("dispatch/visits/<int:pk>/manage/", views.visit_manage, name="visit_manage"),
    path(
        "dispatch/visits/<int:pk>/register/",
        views.visit_register,
        name="visit_register",
    ),
    path(
        "dispatch/registrations/<int:pk>/cancel/",
        views.registration_cancel,
        name="registration_cancel",
    ),
    path(
        "dispatch/visits/<int:pk>/attendance/",
        views.visit_attendance,
        name="visit_attendance",
    ),
    path("dispatch/visits/<int:pk>/qr.svg", views.visit_qr, name="visit_qr"),
    path("dispatch/check-in/<str:token>/", views.check_in, name="check_in"),
    path("dispatch/visits/<int:pk>/report/", views.visit_report, name="visit_report"),
    path("dispatch/visits/<int:pk>/rate/", views.visit_rate, name="visit_rate"),
    path(
        "dispatch/visits/<int:pk>/assessment/",
        views.visit_assessment,
        name="visit_assessment",
    ),
    path(
        "dispatch/attachments/<int:pk>/",
        views.report_attachment,
        name="report_attachment",
    ),
    path("dispatch/calendars/", views.calendars, name="calendars"),
    path(
        "dispatch/calendar/expert/<int:user_id>/<str:token>.ics",
        views.expert_feed,
        name="expert_feed",
    ),
    path(
        "dispatch/calendar/company/<int:company_id>/<str:token>.ics",
        views.company_feed,
        name="company_feed",
    ),
]
