from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from epigrid.api import router
from epigrid.core.home import home
from epigrid.core.views import options_view

urlpatterns = [
    # The API first: Django tries the patterns in order, and a phone's scan should not first fail
    # thirty page prefixes (decision 0041).
    # Lab results' routes under the tubes and persons resources (tubes/<barcode>/persons/, ...).
    path("api/v1/", include("epigrid.results.api_urls")),
    path("api/v1/", include(router.urls)),
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("options/<str:label>/", options_view, name="options"),
    path("areas/", include("epigrid.areas.urls")),
    path("people/", include("epigrid.people.urls")),
    path("control/", include("epigrid.control.urls")),
    path("testing/", include("epigrid.testing.urls")),
    path("antigen/", include("epigrid.antigen.urls")),
    path("transport/", include("epigrid.transport.urls")),
    path("results/", include("epigrid.results.urls")),
    path("retests/", include("epigrid.retests.urls")),
    path("isolation/", include("epigrid.isolation.urls")),
    path("tracing/", include("epigrid.tracing.urls")),
    path("assistance/", include("epigrid.assistance.urls")),
    path("checkpoints/", include("epigrid.checkpoints.urls")),
    path("passes/", include("epigrid.passes.urls")),
    path("reports/", include("epigrid.reports.urls")),
    path("supervision/", include("epigrid.supervision.urls")),
    path("rosters/", include("epigrid.rosters.urls")),
    path("markets/", include("epigrid.markets.urls")),
    path("supplies/", include("epigrid.supplies.urls")),
    path("homeservices/", include("epigrid.homeservices.urls")),
    path("enterprises/", include("epigrid.enterprises.urls")),
    path("disinfection/", include("epigrid.disinfection.urls")),
    path("dashboard/", include("epigrid.dashboard.urls")),
    path("audit/", include("epigrid.audit.urls")),
    path("jobs/", include("epigrid.jobs.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves the page's script as a file: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
