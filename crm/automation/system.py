"""The automation user: the actor of rule actions and web-to-lead, so the change log says "automation"."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from crm.access.models import Profile, Role

USERNAME = "automation"


def automation_user():
    user_model = get_user_model()
    user = user_model.objects.filter(username=USERNAME).first()
    if user is None:
        user = user_model(username=USERNAME, first_name="Automation", is_active=True)
        user.set_unusable_password()  # nobody logs in as it
        user.save()
    if not Profile.objects.filter(user=user, role__slug="admin").exists():
        Profile.objects.update_or_create(user=user, defaults={"role": Role.objects.get(slug="admin")})
    return user
