from django.contrib import admin
from django.urls import include, path

from crm.api.root import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Single sign-on (OpenID Connect): authenticate/ and callback/; they answer 404 unless OIDC_ENABLED.
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("", include("crm.ops.urls")),
    # Before the web app: its routes may take any first segment (a record type's slug); "settings" is reserved.
    path("settings/objects/", include("crm.objects.web.urls")),
    path("settings/privacy/", include("crm.privacy.web.urls")),
    path("settings/audit/", include("crm.audit.web")),
    path("settings/branding/", include("crm.quotes.web.urls")),
    path("settings/quotes/", include("crm.quotes.web.settings")),  # win the deal on acceptance, per pipeline
    path("settings/predict/", include("crm.predict.web")),  # the win-probability model's evaluation, retrain
    path("quote/", include("crm.quotes.web.public_urls")),  # the customer's acceptance page (no login)
    path("settings/currencies/", include("crm.money.web")),
    path("settings/mailboxes/", include("crm.mailbox.web")),
    path("settings/email-templates/", include("crm.mail.web.template_urls")),
    path("mail/received/", include("crm.mailbox.downloads")),  # attachments of received mail
    path("mail/", include("crm.mail.web.urls")),  # compose and the outbox
    path("forecast/", include("crm.forecast.web.urls")),
    path("analytics/", include("crm.sales.web.urls")),  # the sales dashboard
    path("commissions/", include("crm.commissions.web.urls")),
    path("", include("crm.products.web")),  # a price book's entries form, beside its record page
    path("", include("crm.orders.web")),  # purchase history of companies and contacts, a won deal's order
    path("", include("crm.invoices.web")),  # a company page's credit card
    path("", include("crm.quotes.web.actions")),  # a quote page's send, revise and duplicate buttons
    path("", include("crm.web.urls")),
]
