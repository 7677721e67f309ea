"""`crm bench sales [--db sqlite|postgres] [--samples N] [--rows N] [--docs]`: issue 14's figures on a
database of its own (var/bench-sales.sqlite3, or BENCH_PG_URL's server, database <name>_sales), seeded
by crm/orders/bench_seed.py:

- product search at 100,000 products: the API list's ``?q=`` (the search index) and the quote editor's
  search (name contains, or SKU starts with; priced from the quote's book), each beside its raw-SQL floor;
- a company page with 10,000 orders beside the same page of a company without orders, and the same for
  the page's purchase-history card (loaded by htmx), with the raw SQL of the history's sums beside each
  (what the card would cost summed per request);
- the order import at ``--rows`` lines (four lines an order) beside the contact import of as many rows,
  both through crm/dataio/importing.py in this process, each undone afterwards.

Requests go through Django's test client in this process, signed in as the seed's admin (the web
pages and the API's session authentication), so a figure is the view's whole work without a network
hop. ``--docs`` writes the block between ``<!-- bench:sales:<database> -->`` markers."""

from __future__ import annotations

import time

from django.db import connection
from django.test import Client
from django.utils import timezone

from crm.bench.report import machine, pct, write_block
from crm.orders import bench_seed

# (label, query): a word in ~10% of the names, a rare number, a SKU prefix, and a misspelt common word
# (no exact match, so PostgreSQL tolerates the typo: "brackte" is corrected to "bracket", ~10,000
# matches, crm/search/words.py; SQLite finds nothing). Not "widgte", used before: its word similarity to
# "widget" is 0.57, under pg_trgm's 0.6, so it found nothing and showed no typo path at all.
SEARCHES = [
    ("a word in 10% of the names", "widget"),
    ("a rare word", "77777"),
    ("a SKU prefix", "SKU-0421"),
    ("a misspelt common word", "brackte"),
]


def _timed(fn, runs: int) -> list[float]:
    fn()  # warm up: the database's caches, imports, templates
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _get(client: Client, url: str, **headers):
    def call():
        response = client.get(url, HTTP_HOST="127.0.0.1", **headers)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content[:300]!r}")
        return response

    return call


def _sql(sql: str, params: list):
    def call():
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    return call


def _match(q: str):
    """The index subquery the list's ``?q=`` runs (crm/records/selectors.py): the query's folded words,
    matched exactly, or tolerating typos when nothing matches exactly."""
    from crm.search.backends import backend
    from crm.search.query import words_of

    be, words = backend(), words_of(q)
    exact = be.match_sql("product", words, fuzzy=False)
    with connection.cursor() as cur:
        cur.execute(f"SELECT EXISTS ({exact[0]})", exact[1])
        found = cur.fetchone()[0]
    return exact if found or not be.fuzzy else be.match_sql("product", words, fuzzy=True)


def _api_floor(q: str):
    """What the API page reads: the products the index finds, by name, the first 50."""
    match, params = _match(q)
    return _sql(
        f"SELECT id, sku, name, category, unit, active FROM products_product WHERE id IN ({match}) "
        "ORDER BY name, id LIMIT 51",
        params,
    )


def _editor_floor(q: str, book: int):
    """What the editor's search reads: active products the index finds, by name, the first 10, their prices."""
    match, params = _match(q)
    return _sql(
        "SELECT p.id, p.sku, p.name, e.unit_price FROM products_product p LEFT JOIN products_pricebookentry e "
        "ON e.product_id = p.id AND e.price_book_id = %s AND e.currency = %s "
        f"WHERE p.active AND p.id IN ({match}) ORDER BY p.name, p.id LIMIT 10",
        [book, bench_seed.CURRENCY, *params],
    )


def _history_floor(company: int):
    """The purchase history's sums: per currency and date, and the products bought."""
    return _sql(
        "SELECT currency, order_date, SUM(total), COUNT(*) FROM orders_order WHERE company_id = %s "
        "AND status NOT IN ('cancelled', 'returned') GROUP BY currency, order_date",
        [company],
    )


def run(*, runs: int, rows: int, out) -> dict:
    from crm.products.models import PriceBook

    seeded = bench_seed.seed(out)
    client = Client()
    client.force_login(seeded["admin"])
    book = PriceBook.objects.get(is_standard=True).pk
    figures: dict[str, tuple] = {}
    for label, q in SEARCHES:
        figures[f"API product search, {label} (`?q={q}`)"] = (_get(client, f"/api/v1/products?q={q}"), _api_floor(q))
    for label, q in SEARCHES:
        url = f"/quotes/{seeded['quote']}/lines/products?q={q}"
        figures[f"quote editor product search, {label} ({q})"] = (_get(client, url), _editor_floor(q, book))
    for label, key in (("10,000 orders", "busy"), ("no orders", "quiet")):
        page = _get(client, f"/companies/{seeded[key]}/")
        figures[f"company page, {label}"] = (page, _history_floor(seeded[key]))
    for label, key in (("10,000 orders", "busy"), ("no orders", "quiet")):
        card = _get(client, f"/companies/{seeded[key]}/purchases/", HTTP_HX_REQUEST="true")
        figures[f"its purchase-history card (htmx), {label}"] = (card, _history_floor(seeded[key]))
    result = {"database": connection.vendor, "runs": runs, "figures": {}, "machine": machine()}
    for name, (fn, floor) in figures.items():
        times, floors = _timed(fn, runs), _timed(floor, runs)
        result["figures"][name] = {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "floor": pct(floors, 0.5)}
        out.write(
            f"{name}: p50 {pct(times, 0.5):.1f} ms, p95 {pct(times, 0.95):.1f} ms, floor {pct(floors, 0.5):.2f} ms"
        )
    if rows:
        from crm.orders.bench_import import run as imports

        result["imports"] = imports(seeded["admin"], rows, out=out)
    return result


def report(result: dict, at) -> str:
    m = result["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["load_avg"])
    lines = [
        f"### Sales on {result['database']} ({at:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {m['nproc']} cores ({m.get('cpu', '?')}), Python {m['python']}; load average {load}. "
        f"{bench_seed.PRODUCTS:,} products; {bench_seed.ORDERS:,} orders on one company. In process, as an admin.",
        "",
        "| figure | runs | p50 | p95 | floor p50 | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in result["figures"].items():
        ratio = f["p50"] / f["floor"] if f["floor"] else float("nan")
        times = f"{f['p50']:.1f} ms | {f['p95']:.1f} ms | {f['floor']:.2f} ms"
        lines.append(f"| {name} | {result['runs']} | {times} | {ratio:.1f}× |")
    for kind, f in (result.get("imports") or {}).items():
        lines.append(
            f"| import: {f['rows']:,} {kind} rows | 1 | {f['rows_per_s']:,} rows/s ({f['seconds']:.0f} s) | | | |"
        )
    return "\n".join(lines)


def update_docs(text: str, vendor: str) -> None:
    """The block of this database (``<!-- bench:sales:sqlite -->``), replaced or added at the end."""
    write_block(f"sales:{vendor}", text)


def now():
    return timezone.now()
