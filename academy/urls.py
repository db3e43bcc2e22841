from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from users import views as user_views

from . import views as academy_views

# Every login, including the Django admin's and Wagtail's, goes through
# allauth so that rate limits and MFA apply.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", academy_views.healthz, name="healthz"),
    path(
        "favicon.ico",
        RedirectView.as_view(url=settings.STATIC_URL + "img/favicon.svg"),
        name="favicon",
    ),
    path("readyz", academy_views.readyz, name="readyz"),
    path("django-admin/", admin.site.urls),
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
    ),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/profile/", user_views.profile, name="profile"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("organizations.urls")),
    path("", include("courses.urls")),
    path("", include("certificates.urls")),
    path("", include("dispatch.urls")),
    path("", include("hr.urls")),
    path("", include("credentials.urls")),
]

if settings.DEBUG or getattr(settings, "ACADEMY_SERVE_MEDIA", False):
    # Public media from local disk for development and single-machine trials;
    # production serves it from S3 or the front server.
    from django.urls import re_path
    from django.views.static import serve

    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    ]

urlpatterns.append(path("", include(wagtail_urls)))

handler403 = "academy.views.permission_denied"
# 500, or 503 with Retry-After when the database is unreachable.
handler500 = "academy.views.server_error"
# allauth looks this up on ROOT_URLCONF for its rate limits.
handler429 = "academy.views.rate_limited"
