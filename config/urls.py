from django.urls import include, path

urlpatterns = [
    path("api/", include("conduit.api.urls")),
]

handler404 = "conduit.api.errors.not_found"
handler500 = "conduit.api.errors.server_error"
