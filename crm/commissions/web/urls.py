"""/commissions/: the statements a user may read, one statement (lines, versions, exports), the
managers' recalculate and adjust forms, the plans and the reps' assignments to them."""

from django.urls import path

from crm.commissions.web import plans, views

app_name = "commissions"

urlpatterns = [
    path("", views.commissions_page, name="page"),
    path("calculate/", views.calculate, name="calculate"),
    path("calculate-period/", views.calculate_period, name="calculate-period"),
    path("statements/<int:pk>/", views.statement_page, name="statement"),
    path("statements/<int:pk>/adjust/", views.adjust, name="adjust"),
    path("statements/<int:pk>/export.<str:fmt>", views.export, name="export"),
    path("deals/<int:pk>/splits/", views.splits_page, name="splits"),
    path("plans/", plans.plans_page, name="plans"),
    path("plans/new/", plans.plan_new, name="plan-new"),
    path("plans/<int:pk>/", plans.plan_page, name="plan"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/delete/", plans.plan_delete, name="plan-delete"),
    path("assignments/", plans.assign, name="assign"),
    path("assignments/<int:pk>/delete/", plans.unassign, name="unassign"),
]
