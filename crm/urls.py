from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import path

from crm.api.root import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", lambda request: HttpResponseRedirect("/api/v1/docs")),
]
