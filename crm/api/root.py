"""The JSON API at /api/v1/: every router mounted here, one error shape, one auth setup."""

from ninja import Router, Schema

from crm.access.policy import policy_for
from crm.api import errors, throttling
from crm.api.auth import AUTH
from crm.api.base import CrmApi
from crm.audit.api import router as changes_router
from crm.audit.reads_api import router as reads_router
from crm.automation.api import router as automation_router
from crm.commissions.api.routes import router as commissions_router
from crm.customization.api import router as custom_fields_router
from crm.dataio.api import router as dataio_router
from crm.forecast.api.routes import router as forecast_router
from crm.invoices.api.routes import router as invoices_router
from crm.mail.api import router as mail_router
from crm.mailbox.api import router as mailbox_router
from crm.money.api import router as money_router
from crm.objects.api import router as object_types_router
from crm.objects.records_api import router as object_records_router
from crm.orders.api.routes import router as orders_router
from crm.predict.api import router as predict_router
from crm.privacy.api import router as privacy_router
from crm.products.api.routes import router as products_router
from crm.quotes.api import router as branding_router
from crm.quotes.api.routes import router as quotes_router
from crm.records.api.routes import build_routers, config_router
from crm.records.api.timeline import router as timeline_router
from crm.sales.analytics_api import router as analytics_router
from crm.sales.api import router as sales_router
from crm.search.api import router as search_router

api = CrmApi(
    title="CRM API",
    version="1",
    description="Companies, contacts, leads, deals, activities and tasks. Errors are "
    '{"error": {"code", "message", "fields"}}. Lists are cursor-paginated: {"items", "next"}.',
    auth=AUTH,
    throttle=throttling.DEFAULT,  # heavy operations name throttling.HEAVY
    urls_namespace="api",
)
errors.install(api)
throttling.install(api)
throttling.check_settings()

for path, router in build_routers().items():
    api.add_router(f"/{path}", router)
api.add_router("/", timeline_router)
api.add_router("/", config_router)
api.add_router("/custom-fields", custom_fields_router)
api.add_router("/settings/object-types", object_types_router)
api.add_router("/objects", object_records_router)
api.add_router("/changes", changes_router)
api.add_router("/audit", reads_router)
api.add_router("/search", search_router)
api.add_router("/automation", automation_router)
api.add_router("/sales", sales_router)
api.add_router("/", dataio_router)
api.add_router("/privacy", privacy_router)
api.add_router("/settings/branding", branding_router)
api.add_router("/", money_router)
api.add_router("/", mail_router)
api.add_router("/", mailbox_router)
api.add_router("/", products_router)  # price-book entries and the price lookup
api.add_router("/", orders_router)  # the external order feed, a won deal's order
api.add_router("/", invoices_router)  # the accounting feed, recording a payment
api.add_router("/forecast", forecast_router)
api.add_router("/analytics", analytics_router)
api.add_router("/commissions", commissions_router)
api.add_router("/predict", predict_router)
api.add_router("/", quotes_router)  # a quote's lines, send, revise, versions and PDFs

me_router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    username: str
    email: str
    is_admin: bool
    scope: str
    permissions: dict


@me_router.get("", response=MeOut, summary="Who am I, and what may I do")
def me(request):
    policy = policy_for(request.user)
    return {
        "id": request.user.pk,
        "username": request.user.username,
        "email": request.user.email,
        "is_admin": policy.is_admin,
        "scope": policy.scope,
        "permissions": dict(policy.permissions),
    }


api.add_router("/me", me_router)
