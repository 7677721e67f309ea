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


def links_of(obj) -> dict[str, list[int]]:
    """{record type: [ids]} of what an activity or task is linked to."""
    out: dict[str, list[int]] = {}
    for lk in obj.links.order_by("pk"):
        out.setdefault(lk.record_type, []).append(lk.record_id)
    return out


class LinkedFactory(factory.django.DjangoModelFactory):
    """``company=``, ``contact=``, ``lead=``, ``deal=``: records the row is linked to (generic links)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        targets = {t: kwargs.pop(t) for t in ("company", "contact", "lead", "deal") if kwargs.get(t) is not None}
        for t in ("company", "contact", "lead", "deal"):
            kwargs.pop(t, None)
        obj = super()._create(model_class, *args, **kwargs)
        link = model_class.links.rel.related_model
        fk = model_class.links.field.name
        values = obj.link_values()
        link.objects.bulk_create(
            [link(**{fk: obj}, record_type=t, record_id=r.pk, **values) for t, r in targets.items()]
        )
        return obj


class ActivityFactory(LinkedFactory):
    class Meta:
        model = Activity

    kind = "note"
    subject = factory.Sequence(lambda n: f"Note {n}")


class TaskFactory(LinkedFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task {n}")
