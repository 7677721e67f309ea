"""Test data per model. Factories write through the ORM for speed; tests of rules use the services."""

import factory
from django.contrib.auth.models import User

from crm.access.builtin_roles import BUILTIN_ROLES
from crm.access.models import Profile, Role, Team
from crm.records.models import Activity, Company, Contact, Deal, Lead, Pipeline, Stage, Task


def builtin_role(slug: str) -> Role:
    """The built-in role; re-created when a transactional test's flush removed the migration's rows."""
    spec = next(r for r in BUILTIN_ROLES if r["slug"] == slug)
    return Role.objects.get_or_create(slug=slug, defaults={k: v for k, v in spec.items() if k != "slug"})[0]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            team = kwargs.get("team")
            Profile.objects.update_or_create(user=self, defaults={"role": builtin_role(extracted), "team": team})
        self.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class PipelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pipeline
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pipeline {n}")

    @factory.post_generation
    def stages(self, create, extracted, **kwargs):
        specs = extracted or [
            ("Qualify", 10, False, False),
            ("Proposal", 50, False, False),
            ("Won", 100, True, False),
            ("Lost", 0, False, True),
        ]
        for i, (name, prob, won, lost) in enumerate(specs):
            Stage.objects.create(pipeline=self, name=name, order=i, probability=prob, is_won=won, is_lost=lost)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Person"
    name = factory.LazyAttribute(lambda c: f"{c.first_name} {c.last_name}")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Sequence(lambda n: f"Lead{n}")
    last_name = "Prospect"
    name = factory.LazyAttribute(lambda c: f"{c.first_name} {c.last_name}")


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    name = factory.Sequence(lambda n: f"Deal {n}")
    currency = "USD"
    pipeline = factory.SubFactory(PipelineFactory)
    stage = factory.LazyAttribute(lambda d: d.pipeline.stages.order_by("order").first())
    probability = 10


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = "note"
    subject = factory.Sequence(lambda n: f"Note {n}")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task {n}")
