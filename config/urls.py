from django.urls import include, path

urlpatterns = [
    path("api/", include("conduit.api.urls")),
    path("", include("conduit.web.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
