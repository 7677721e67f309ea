"""/analytics/: the category, activity and trend sections show the API's numbers, each linking to the
deals (or activities) behind it, restricted to what the viewer may see."""

import json
import re
from html import unescape

from tests.analytics.conftest import D, at
from tests.factories import ActivityFactory


def hrefs(html: str, prefix: str) -> list[str]:
    return [unescape(h) for h in re.findall(rf'href="({re.escape(prefix)}\?[^"]+)"', html)]


def test_sections_and_their_drill_downs(lines, web, rep_a, rep_b):
    ActivityFactory(owner=rep_a, kind="call", occurred_at=at(D(2026, 5, 2)), subject="<b>Call Acme</b>")
    ActivityFactory(owner=rep_b, kind="email", occurred_at=at(D(2026, 5, 3)), subject="Theirs")
    html = web(rep_a).get("/analytics/", {"period": "2026-05"}).content.decode()
    assert "750.00" in html and "Hardware" in html and "(no category)" in html
    data = json.loads(unescape(re.search(r'id="analytics-data"[^>]*>(.*?)</script>', html, re.S).group(1)))
    assert data["categories"]["labels"] == ["Hardware", "Services", "(no category)"]
    assert data["trend"]["labels"][-1] == "2026-05" and data["trend"]["values"][-1] == "1120.00"
    assert data["activities"]["values"] == [1]

    deals = hrefs(html, "/analytics/deals/")
    hardware = next(h for h in deals if "figure=category" in h and "category=Hardware" in h and "2026-05" in h)
    listed = web(rep_a).get(hardware).content.decode()
    assert lines["w1"].name in listed and lines["w2"].name not in listed
    may = next(h for h in deals if "figure=won" in h and "period=2026-05" in h)
    assert lines["w2"].name in web(rep_a).get(may).content.decode()

    activities = hrefs(html, "/analytics/activities/")
    assert len(activities) == 1 and f"owner_id={rep_a.pk}" in activities[0]
    listed = web(rep_a).get(activities[0]).content.decode()
    assert "&lt;b&gt;Call Acme&lt;/b&gt;" in listed and "Theirs" not in listed
    # Asking for another rep's activities shows none of them: the list is restricted, not the link.
    others = web(rep_a).get("/analytics/activities/", {"period": "2026-05", "owner_id": rep_b.pk}).content.decode()
    assert "Theirs" not in others


def test_bad_category_drill_down_is_a_page(lines, web, rep_a):
    page = web(rep_a).get("/analytics/deals/", {"figure": "category", "category": "Nope", "period": "2026-05"})
    assert page.status_code == 200 and "No deals." in page.content.decode()
    assert web(rep_a).get("/analytics/activities/", {"owner_id": "abc"}).status_code == 200
