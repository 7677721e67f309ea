"""The web app manifest (crm/web/views/pwa.py): served to anyone with its own content type, linked from
every page, its icons real PNGs of the declared sizes."""

import io
import json

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

pytestmark = pytest.mark.django_db


def test_the_manifest_is_served_with_its_content_type_before_sign_in(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] and data["short_name"]
    assert data["start_url"] == "/" and data["display"] == "standalone"
    assert data["theme_color"] == "#14213d"
    sizes = {icon["sizes"] for icon in data["icons"] if icon["purpose"] == "any"}
    assert sizes == {"192x192", "512x512"}


def test_the_icons_are_pngs_of_their_declared_size(client):
    for icon in json.loads(client.get("/manifest.webmanifest").content)["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with open(path, "rb") as f:
            raw = f.read()
        assert len(raw) < 10_000  # small files in the repository
        image = Image.open(io.BytesIO(raw))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]


def test_every_page_links_the_manifest(client, rep_a, web):
    assert b'rel="manifest" href="/manifest.webmanifest"' in client.get("/login/").content
    assert b'rel="manifest" href="/manifest.webmanifest"' in web(rep_a).get("/").content
