"""`crm bench forecast|analytics` share one runner: the seed's admin runs the bench module, its report is
printed and returned with the result (crm/bench/management/commands/bench.py `_as_bench_admin`)."""

import io
import types

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from crm.bench.management.commands.bench import Command

pytestmark = pytest.mark.django_db


def test_the_seeds_admin_runs_the_bench_and_its_report_is_printed():
    admin = get_user_model().objects.create_user("bench-admin")
    seen = {}

    def run(user, runs):
        seen.update(user=user, runs=runs)
        return {"database": "sqlite", "deals": 7}

    bench = types.SimpleNamespace(run=run, report=lambda result, now: f"{result['deals']} deals at {now:%Y}")
    command = Command(stdout=io.StringIO())
    result, text = command._as_bench_admin(bench, {"samples": 500})
    assert seen == {"user": admin, "runs": 50}  # samples capped at 50
    assert result["deals"] == 7 and text.startswith("7 deals at 20")
    assert text in command.stdout.getvalue()


def test_without_a_seeded_admin_it_says_to_seed_first():
    with pytest.raises(CommandError, match="crm bench seed"):
        Command(stdout=io.StringIO())._as_bench_admin(types.SimpleNamespace(), {"samples": 1})
