"""/analytics/: the dashboard shows the API's figures, each linking to the deals behind it; bad filters
are messages, not errors; a rep sees only their own deals there too."""

import re
from html import unescape


def links_of(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(/analytics/deals/\?[^"]+)"', html)]


def test_dashboard_figures_and_drill_down(story, web, rep_a):
    page = web(rep_a).get("/analytics/", {"period": "2026-05"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "1120.00" in html and "560.00" in html and "0.6667" in html and "12.45" in html
    assert "9999" not in html  # rep_b's deal
    assert 'id="analytics-data"' in html and "<script>" not in html  # chart data as JSON, no inline script
    links = links_of(html)
    won = next(link for link in links if "figure=won" in link and "period=2026-05" in link)
    listed = web(rep_a).get(won).content.decode()
    assert story["w1"].name in listed and story["w2"].name in listed and story["b1"].name not in listed
    reason = next(link for link in links if "lost_reason=Price" in link)
    listed = web(rep_a).get(reason).content.decode()
    assert story["l1"].name in listed and story["w1"].name not in listed


def test_filters_carry_into_the_links(story, web, admin_user, rep_a):
    html = web(admin_user).get("/analytics/", {"period": "2026-05", "owner_id": rep_a.pk}).content.decode()
    won = next(link for link in links_of(html) if "figure=won" in link and "2026-05" in link)
    assert f"owner_id={rep_a.pk}" in won
    listed = web(admin_user).get(won).content.decode()
    assert story["w1"].name in listed and story["b1"].name not in listed


def test_bad_filters_are_messages(web, rep_a, db):
    for params in ({"team_id": "999999"}, {"owner_id": "abc"}, {"period": "junk"}):
        r = web(rep_a).get("/analytics/", params)
        assert r.status_code == 200
    assert "No team with id 999999" in web(rep_a).get("/analytics/", {"team_id": "999999"}).content.decode()
    assert web(rep_a).get("/analytics/deals/", {"figure": "junk"}).status_code == 200
    assert web(None).get("/analytics/").status_code == 302
