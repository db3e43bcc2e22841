from django.urls import path

from . import views

app_name = "courses"

urlpatterns = [
    path("learning/", views.my_learning, name="my_learning"),
    path("learning/courses/<int:course_id>/enrol/", views.course_enrol, name="enrol"),
    path(
        "learning/courses/<int:course_id>/withdraw/",
        views.course_withdraw,
        name="withdraw",
    ),
    path(
        "learning/courses/<int:course_id>/resume/", views.course_resume, name="resume"
    ),
    path(
        "learning/lessons/<int:lesson_id>/heartbeat/",
        views.lesson_heartbeat,
        name="heartbeat",
    ),
    path(
        "learning/lessons/<int:lesson_id>/quiz/start/",
        views.quiz_start,
        name="quiz_start",
    ),
    path(
        "learning/attempts/<int:attempt_id>/submit/",
        views.quiz_submit,
        name="quiz_submit",
    ),
]
