"""The provider's OIDC endpoints at its root (so the issuer is the bare origin), its login form, and
/seed/ for the test to add users, groups and clients (guarded by a token only the test knows)."""

import json
import os

from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group, User
from django.http import HttpResponseForbidden, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_application_model

from tests.oidc_provider import state


def _allowed(request) -> bool:
    return request.method == "POST" and request.headers.get("X-Seed-Token") == os.environ["PROVIDER_SEED_TOKEN"]


@csrf_exempt
def seed_user(request):
    """Creates or updates a user: password, email, names and exactly these groups."""
    if not _allowed(request):
        return HttpResponseForbidden()
    data = json.loads(request.body)
    user, _ = User.objects.get_or_create(username=data["username"])
    user.email = data.get("email", "")
    user.first_name = data.get("first_name", "")
    user.last_name = data.get("last_name", "")
    user.is_active = data.get("is_active", True)
    user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data.get("groups", [])])
    return JsonResponse({"sub": str(user.pk)})


@csrf_exempt
def seed_client(request):
    if not _allowed(request):
        return HttpResponseForbidden()
    data = json.loads(request.body)
    Application = get_application_model()
    Application.objects.filter(client_id=data["client_id"]).delete()
    Application.objects.create(
        name=data["client_id"],
        client_id=data["client_id"],
        client_secret=data["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=data["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    return JsonResponse({})


@csrf_exempt
def seed_audience(request):
    if not _allowed(request):
        return HttpResponseForbidden()
    state.ID_TOKEN_AUDIENCE = json.loads(request.body).get("aud", "")
    return JsonResponse({})


@csrf_exempt
def seed_id_claims(request):
    """Claims every ID token carries from now on (how the person authenticated: acr, amr); {} to stop."""
    if not _allowed(request):
        return HttpResponseForbidden()
    state.ID_TOKEN_CLAIMS = json.loads(request.body)
    return JsonResponse({})


urlpatterns = [
    path("login/", auth_views.LoginView.as_view()),
    path("seed/user/", seed_user),
    path("seed/client/", seed_client),
    path("seed/audience/", seed_audience),
    path("seed/id-claims/", seed_id_claims),
    path("", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
