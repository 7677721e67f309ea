"""/quote/<token>/: the customer's acceptance page and the quote's PDF (no login; crm/quotes/links.py)."""

from django.urls import path

from crm.quotes.web import public

app_name = "quote-public"

urlpatterns = [
    path("<str:token>/", public.page, name="page"),
    path("<str:token>/pdf", public.pdf, name="pdf"),
]
