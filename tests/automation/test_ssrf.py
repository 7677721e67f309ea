"""The SSRF guard: every non-global address refused, at save time (any numeric spelling) and at delivery."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.test import Client

from crm.access.models import User
from crm.automation import http, ssrf, webhooks
from crm.automation.models import WebhookSubscription
from crm.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

NOT_GLOBAL = [
    "http://100.100.100.200/latest/meta-data",  # carrier-grade NAT range; Alibaba cloud metadata
    "http://100.64.0.1/x",
    "http://192.0.0.1/x",  # IETF protocol assignments
    "http://198.18.0.1/x",  # benchmarking
    "http://192.0.2.10/x",  # documentation
    "http://240.0.0.1/x",  # reserved
    "http://255.255.255.255/x",
    "http://224.0.0.1/x",  # multicast (is_global is true for it; refused anyway)
    "http://[ff02::1]/x",
    "http://[2001:db8::1]/x",
    "http://[fc00::1]/x",
    "http://[64:ff9b::7f00:1]/x",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
]

SPELLINGS = [
    "http://127.1/x",
    "http://2130706433/x",
    "http://0x7f000001/x",
    "http://0177.0.0.1/x",
    "http://0x7f.1/x",
    "http://127.0.0.1./x",
    "http://localhost./x",
    "http://LOCALHOST/x",
    "http://ip6-localhost/x",
    "http://api.localhost/x",
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:7f00:1]/x",
    "http://[fe80::1%25eth0]/x",
    "http://012.0.0.1/x",  # octal 10.0.0.1
    "http://0xa9fea9fe/x",  # 169.254.169.254
]


@pytest.mark.parametrize("url", NOT_GLOBAL + SPELLINGS)
def test_save_time_refuses_every_non_global_spelling(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    assert ssrf.literal_refusal(url), url
    with pytest.raises(ValidationFailed) as exc:
        webhooks.validate_subscription({"name": "x", "url": url, "event_types": [], "object_types": []})
    assert "url" in exc.value.fields


@pytest.mark.parametrize("url", NOT_GLOBAL + SPELLINGS)
def test_delivery_refuses_them_before_connecting(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ssrf.Refused):
        ssrf.check_url(url)


@pytest.mark.parametrize("url", ["https://example.com/h", "http://8.8.8.8/h", "http://[2001:4860:4860::8888]/h"])
def test_public_hosts_pass_the_save_check(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    assert ssrf.literal_refusal(url) is None


def test_a_name_is_not_resolved_at_save_time_but_every_answer_is_checked_at_delivery(settings):
    """The machine's own name resolves (hosts file) to a non-global address: allowed to save, refused to call."""
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    name = socket.gethostname()
    answers = {info[4][0] for info in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    if all(ssrf._forbidden(ssrf.ipaddress.ip_address(a.split("%")[0])) is None for a in answers):
        pytest.skip(f"{name} resolves to a public address here")
    url = f"http://{name}:9/x"
    assert ssrf.literal_refusal(url) is None
    with pytest.raises(ssrf.Refused, match="resolves to"):
        ssrf.check_url(url)


def test_one_forbidden_answer_among_public_ones_refuses(settings, monkeypatch):
    """A DNS answer with a public and a private address is refused (no DNS server here: the answer is given)."""
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    answer = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 80)) for a in ("93.184.216.34", "100.100.100.200")]
    monkeypatch.setattr(ssrf.socket, "getaddrinfo", lambda *a, **kw: answer)
    with pytest.raises(ssrf.Refused, match="100.100.100.200"):
        ssrf.check_url("http://two-answers.example/x")


class _Server:
    def __init__(self, status, location=""):
        self.hits = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hits.append(self.path)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_redirects_are_not_followed(settings):
    """Loopback is allowed for this test only so that real servers can answer; the 302 is returned, not followed."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    target = _Server(200)
    redirector = _Server(302, location=target.url)
    try:
        resp = http.post(redirector.url, b"{}", {})
    finally:
        redirector.close()
        target.close()
    assert resp.status == 302
    assert redirector.hits == ["/hook"] and target.hits == []


def test_webhook_api_and_admin_refuse_the_spellings(api, admin_user, settings):
    """Both save paths (API and Django admin) go through the same check."""
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client = api(admin_user)
    for url in ("http://2130706433/x", "http://[::ffff:127.0.0.1]/x", "http://100.100.100.200/x", "http://127.1/x"):
        r = client.post("/automation/webhooks", {"name": "x", "url": url})
        assert r.status_code == 422 and "url" in r.json()["error"]["fields"], url
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    base = {"name": "Bad", "event_types": "[]", "object_types": "[]"}
    r = admin.post("/admin/automation/webhooksubscription/add/", {**base, "url": "https://0x7f000001/hook"})
    assert r.status_code == 200 and "url" in r.context["adminform"].form.errors
    assert not WebhookSubscription.objects.exists()
