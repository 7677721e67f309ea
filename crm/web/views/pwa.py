"""The web app manifest: what makes the CRM installable as an app (Chromium's "Install app"), opening
standalone at the home page. Served by a view, not as a static file, so its icon URLs are the static
storage's (hashed in production) and its content type is the manifest's own.

No service worker: Chromium has not required one for installing from its menu since version 108 on
Android and 112 on desktop, and offline use is not a goal (docs/web.md). Chromium's automatic install
prompt (``beforeinstallprompt``) still wants a fetch handler; the menu's "Install app" is enough here.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

THEME = "#14213d"  # the header's navy (app.css .topbar)
BACKGROUND = "#f5f6f8"  # the page's background (app.css --bg), shown while the app starts


def manifest_data() -> dict:
    return {
        "name": "CRM",
        "short_name": "CRM",
        "description": "Companies, contacts, deals, tasks and your day.",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME,
        "background_color": BACKGROUND,
        "icons": [
            {
                "src": static(f"web/icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in (192, 512)
        ]
        + [{"src": static("web/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"}],
    }


# Fetched before sign-in too (the browser asks without cookies): it holds nothing about the organization.
@require_GET
@cache_control(max_age=3600, public=True)
def manifest(request):
    return HttpResponse(json.dumps(manifest_data(), indent=1), content_type="application/manifest+json")
