"""/commissions/: the statements a user may read, one statement (lines, versions, exports), and the
managers' recalculate and adjust forms."""

from django.urls import path

from crm.commissions.web import views

app_name = "commissions"

urlpatterns = [
    path("", views.commissions_page, name="page"),
    path("calculate/", views.calculate, name="calculate"),
    path("statements/<int:pk>/", views.statement_page, name="statement"),
    path("statements/<int:pk>/adjust/", views.adjust, name="adjust"),
    path("statements/<int:pk>/export.<str:fmt>", views.export, name="export"),
    path("deals/<int:pk>/splits/", views.splits_page, name="splits"),
]
