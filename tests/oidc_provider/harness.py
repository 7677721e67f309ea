"""The test side of the provider: start its process, seed it over HTTP, and sign in at it as a browser
would (requests, with its own cookies) while the CRM is driven by Django's test client."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://testserver/oidc/callback/"  # the CRM as Django's test client serves it


@dataclass
class Provider:
    process: subprocess.Popen
    url: str
    seed_token: str = field(repr=False)

    def _seed(self, what: str, data: dict) -> dict:
        response = requests.post(f"{self.url}/seed/{what}/", json=data, headers={"X-Seed-Token": self.seed_token})
        response.raise_for_status()
        return response.json()

    def user(self, username: str, *, groups=(), email: str | None = None, password: str = "idp-pw", **names) -> str:
        """Creates or updates a user at the provider; returns its subject."""
        data = {"username": username, "password": password, "groups": list(groups), **names}
        data["email"] = email if email is not None else f"{username}@idp.example"
        return self._seed("user", data)["sub"]

    def client(self, client_id: str, client_secret: str) -> None:
        self._seed("client", {"client_id": client_id, "client_secret": client_secret, "redirect_uri": CALLBACK})

    def issue_id_tokens_to(self, audience: str) -> None:
        self._seed("audience", {"aud": audience})

    def add_to_id_tokens(self, claims: dict) -> None:
        """Claims every ID token carries until called again ({}: none), such as ``acr`` and ``amr``."""
        self._seed("id-claims", claims)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(workdir: Path) -> Provider:
    """Runs tests/oidc_provider/serve.py and waits until its discovery document answers."""
    token = secrets.token_urlsafe(16)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve", str(workdir)],
        cwd=ROOT,
        env={**os.environ, "PROVIDER_SEED_TOKEN": token},
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()  # "READY <port>" once migrated; "" if it died
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"the OIDC provider did not start: {line!r}")
    provider = Provider(process, f"http://127.0.0.1:{int(line.split()[1])}", token)
    for _ in range(100):
        try:
            if requests.get(f"{provider.url}/.well-known/openid-configuration", timeout=5).ok:
                return provider
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    provider.stop()
    raise RuntimeError("the OIDC provider does not answer its discovery URL")


def sign_in_at_provider(authorize_url: str, username: str, password: str = "idp-pw") -> str:
    """Follows the CRM's redirect as a browser: the provider's login form, then its authorize endpoint,
    which redirects back to the CRM. Returns that callback URL's path and query."""
    browser = requests.Session()
    answer = browser.get(authorize_url, allow_redirects=False)
    login_url = urljoin(authorize_url, answer.headers["Location"])
    page = browser.get(login_url)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = browser.post(
        login_url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        allow_redirects=False,
    )
    assert answer.status_code == 302, "the provider refused the login"
    answer = browser.get(urljoin(login_url, answer.headers["Location"]), allow_redirects=False)
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK, answer.headers["Location"]
    return f"{back.path}?{back.query}"
