"""`crm bench seed --scale S` and `crm bench run --scale S` (see docs/benchmarks.md)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crm.bench import database
from crm.bench.scales import SCALES


class Command(BaseCommand):
    help = "Benchmark data and measurements, in a separate database (var/bench-<scale>.sqlite3 or BENCH_PG_URL)."

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=[
                "seed",
                "run",
                "automation",
                "import",
                "quotes",
                "forecast",
                "commissions",
                "sales",
                "predict",
                "mail",
                "analytics",
            ],
            help="automation: rule evaluations/s and change-to-action delay; import: import rows/s and memory; "
            "quotes: quote totals and PDF render times (no database); forecast: the forecast methods and the "
            "8-quarter backtest; commissions: every rep's statement of a quarter; sales: product search at 100k "
            "products, a company page with 10k orders, order "
            "import rows/s (crm/orders/bench.py); predict: training the win-probability model and scoring every "
            "open deal; mail: IMAP sync msg/s and memory, background send msg/s, a contact page with thousands "
            "of emails (crm/mail/bench.py); analytics: each sales-analytics endpoint's selector beside raw-SQL "
            "floors (crm/sales/bench.py)",
        )
        parser.add_argument(
            "--rows",
            type=int,
            default=100_000,
            help="Rows in the generated import file (import; sales: 0 skips the imports; mail: messages in the large "
            "mailbox, default 10,000).",
        )
        parser.add_argument("--keep", action="store_true", help="Do not undo the import afterwards (import).")
        parser.add_argument("--scale", choices=list(SCALES), default="small")
        parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite", dest="engine")
        parser.add_argument("--samples", type=int, default=200, help="Timed requests per figure (run).")
        parser.add_argument("--duration", type=int, default=10, help="Seconds of each load-generator run (run).")
        parser.add_argument("--connections", type=int, default=8, help="Concurrent load-generator clients (run).")
        parser.add_argument(
            "--only", default="sync,send,page", help="mail: the parts to measure, of sync,send,page (comma-separated)."
        )
        parser.add_argument("--docs", action="store_true", help="Also write the table into docs/benchmarks.md (run).")

    def handle(self, *args, action, scale, engine, **options):
        if action == "quotes":
            return self._quotes(options)
        if action in ("import", "sales") and not (action != "sales") <= options["rows"] <= 10_000_000:
            raise CommandError("--rows must be 1 to 10,000,000.")
        url = database.url_for(scale, engine)
        if action in ("import", "sales", "mail"):
            from crm.bench.imports import database_url

            url = database_url(engine, action)
        if not database.is_current(url):
            if action in ("seed", "mail") or (
                action in ("import", "sales") and engine == "postgres" and not database.exists(url)
            ):
                database.recreate(url)
            elif action not in ("import", "sales") and not database.exists(url):
                raise CommandError(f"No benchmark database for scale {scale!r}: run `crm bench seed --scale {scale}`.")
            database.reexec(url)  # does not return
        if action == "seed":
            self._seed(SCALES[scale])
        elif action == "automation":
            self._automation(scale, engine)
        elif action == "import":
            self._import(options["rows"], engine, keep=options["keep"])
        elif action == "forecast":
            self._forecast(options)
        elif action == "commissions":
            self._commissions(options)
        elif action == "sales":
            self._sales(options, rows=options["rows"])
        elif action == "predict":
            self._predict(options)
        elif action == "mail":
            self._mail(options)
        elif action == "analytics":
            self._analytics(options)
        else:
            from crm.bench.run import run

            run(SCALES[scale], engine=engine, options=options, out=self.stdout)

    def _quotes(self, options) -> None:
        """Issue 14's figures: totals of a 200-line quote, PDF of a 50-line one (--samples: totals runs)."""
        from django.utils import timezone

        from crm.quotes import bench

        result = bench.run(totals_runs=options["samples"], pdf_runs=max(10, options["samples"] // 7))
        self.stdout.write(bench.report(result))
        if options["docs"]:
            bench.update_docs(result, timezone.now())
            self.stdout.write("written to docs/benchmarks.md")

    def _sales(self, options, *, rows: int) -> None:
        """Issue 14's figures on their own database: product search, company page, order import (--rows)."""
        from crm.orders import bench

        call_command("migrate", verbosity=0, interactive=False)
        result = bench.run(runs=min(options["samples"], 100), rows=rows, out=self.stdout)
        text = bench.report(result, bench.now())
        self.stdout.write(text)
        if options["docs"]:
            bench.update_docs(text, result["database"])
            self.stdout.write("written to docs/benchmarks.md")

    def _forecast(self, options) -> None:
        """Issue 15's figures: each forecast method and the 8-quarter backtest (--samples: runs)."""
        from crm.forecast import bench

        result, text = self._as_bench_admin(bench, options)
        if options["docs"]:
            bench.update_docs(text, result["database"], result["deals"])
            self.stdout.write("written to docs/benchmarks.md")

    def _analytics(self, options) -> None:
        """Issue 15's figures: each sales-analytics endpoint's selector beside raw-SQL floors (--samples: runs)."""
        from crm.sales import bench

        result, text = self._as_bench_admin(bench, options)
        if options["docs"]:
            bench.update_docs(text, result["database"])
            self.stdout.write("written to docs/benchmarks.md")

    def _as_bench_admin(self, bench, options) -> tuple[dict, str]:
        """Run ``bench`` (a module with ``run(admin, runs=)`` and ``report``) on the seeded database as its
        admin; print and return the result and its report."""
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        call_command("migrate", verbosity=0, interactive=False)
        admin = get_user_model().objects.filter(username="bench-admin").first()  # crm/bench/seed.py's admin
        if admin is None:
            raise CommandError("This database holds no benchmark data: run `crm bench seed --scale S` first.")
        result = bench.run(admin, runs=min(options["samples"], 50))
        text = bench.report(result, timezone.now())
        self.stdout.write(text)
        return result, text

    def _mail(self, options) -> None:
        """Issue 16's figures on a fresh database of their own: IMAP sync, background send, record page."""
        from crm.mail import bench
        from crm.orders.bench_seed import admin

        call_command("migrate", verbosity=0, interactive=False)
        rows = options["rows"] if options["rows"] != 100_000 else 10_000  # --rows' default is the import's
        only = tuple(p.strip() for p in options["only"].split(",") if p.strip())
        if not only or set(only) - set(bench.PARTS):
            raise CommandError(f"--only takes some of {','.join(bench.PARTS)}.")
        runs = min(options["samples"], 100)
        result = bench.run(admin(), messages=rows, sends=min(rows, 500), runs=runs, out=self.stdout, only=only)
        text = bench.report(result, bench.now())
        self.stdout.write(text)
        if options["docs"]:
            bench.update_docs(text, result["database"], only)
            self.stdout.write("written to docs/benchmarks.md")

    def _commissions(self, options) -> None:
        """Issue 15's figure: commission statements for all reps of a period, beside the raw-SQL floor."""
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from crm.commissions import bench

        call_command("migrate", verbosity=0, interactive=False)
        admin = get_user_model().objects.get(username="bench-admin")
        result = bench.run(admin, runs=min(options["samples"], 20))
        text = bench.report(result, timezone.now())
        self.stdout.write(text)
        if options["docs"]:
            bench.update_docs(text, result["database"])
            self.stdout.write("written to docs/benchmarks.md")

    def _predict(self, options) -> None:
        """Issue 15's training and scoring figures (time and peak memory)."""
        from django.utils import timezone

        from crm.predict import bench

        call_command("migrate", verbosity=0, interactive=False)
        text = bench.report(bench.run(), timezone.now())
        self.stdout.write(text)
        if options["docs"]:
            bench.update_docs(text, connection.vendor)
            self.stdout.write("written to docs/benchmarks.md")

    def _import(self, rows: int, engine: str, *, keep: bool) -> None:
        """Issue 4's figures: import rows/s, peak memory and undo rows/s, beside a raw-SQL floor."""
        import json
        import time

        from django.conf import settings

        from crm.bench.imports import run

        call_command("migrate", verbosity=0, interactive=False)
        result = {"database": engine, "import": run(rows, out=self.stdout, keep=keep)}
        folder = settings.BASE_DIR / "bench" / "results"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"import-{engine}-{rows}-{int(time.time())}.json"
        path.write_text(json.dumps(result, indent=2, default=str))
        self.stdout.write(f"written to {path}")

    def _automation(self, scale: str, engine: str) -> None:
        """Issue 6's figures, on the benchmark database: both task backends (Redis at REDIS_URL)."""
        import json
        import time

        from django.conf import settings

        from crm.automation.bench import run_all

        result = {"scale": scale, "database": engine, "automation": run_all()}
        folder = settings.BASE_DIR / "bench" / "results"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"automation-{engine}-{scale}-{int(time.time())}.json"
        path.write_text(json.dumps(result, indent=2, default=str))
        self.stdout.write(json.dumps(result, indent=2, default=str))
        self.stdout.write(f"written to {path}")

    def _seed(self, scale) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from crm.bench.seed import expected_rows, seed

        call_command("migrate", verbosity=0, interactive=False)
        with Progress(
            TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as progress:
            task = progress.add_task("seeding", total=expected_rows(scale))

            def advance(table: str, n: int) -> None:
                progress.update(task, advance=n, description=table)

            result = seed(scale, progress=advance, throwaway=True)  # handle() just recreated it
        rate = result["rows"] / result["seconds"]
        self.stdout.write(
            f"Seeded scale {scale.name}: {result['rows']:,} rows in {result['seconds']:.1f} s ({rate:,.0f} rows/s)"
        )
        for table, count in sorted(result["tables"].items()):
            self.stdout.write(f"  {table:<24} {count:>12,}")
