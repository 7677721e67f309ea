from django.contrib import admin
from django.urls import include, path

from crm.api.root import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("crm.ops.urls")),
    path("", include("crm.web.urls")),
]
